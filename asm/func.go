package asm

import "fmt"

//go:generate go run ../internal/cmd/genasm ../internal/cmd/uapi/bpf-uapi.h .

// BuiltinFunc is a helper function of the kernel, called by number (enum
// bpf_func_id). The constants, one per helper of the Linux 6.18 UAPI, are
// generated from the header; a helper's availability depends on the kernel
// version and the program type.
type BuiltinFunc uint32

// BuiltinFuncForPlatform returns the helper with number value on platform.
// Only "linux" (or "") is supported: other platforms return an error
// wrapping ErrNotSupported. Values with any of the top four bits set are
// refused: cilium/ebpf reserves them to tag other platforms' helpers.
func BuiltinFuncForPlatform(plat string, value uint32) (BuiltinFunc, error) {
	if err := checkPlatform(plat); err != nil {
		return 0, err
	}
	if value&reservedPlatformBits != 0 {
		return 0, fmt.Errorf("helper number %#x: top bits are reserved", value)
	}
	return BuiltinFunc(value), nil
}

// Call emits a call of the helper. Arguments go in R1 to R5; the result
// comes back in R0.
func (fn BuiltinFunc) Call() Instruction {
	return Instruction{
		OpCode:   OpCode(JumpClass).SetJumpOp(Call),
		Constant: int64(fn),
	}
}
