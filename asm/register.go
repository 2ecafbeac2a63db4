package asm

import "strconv"

// Register is one of the eBPF machine's eleven 64-bit registers, R0 to R10.
// In the Src field of some instructions it carries a pseudo source instead
// (PseudoMapFD, PseudoCall, ...), which tells the kernel how to read the
// immediate.
type Register uint8

// The registers of the eBPF calling convention.
const (
	// R0 holds the return value of helpers, functions and the program.
	R0 Register = iota
	// R1 to R5 carry function arguments; calls clobber them. R1 holds the
	// program's context on entry.
	R1
	R2
	R3
	R4
	R5
	// R6 to R9 survive calls (callee saved).
	R6
	R7
	R8
	R9
	// R10 is the read-only frame pointer: the top of the 512-byte stack.
	R10
)

// RFP is the frame pointer, another name for R10.
const RFP = R10

// Pseudo sources: values of Src that change what an instruction's immediate
// means to the kernel.
const (
	// PseudoMapFD marks a 64-bit immediate load whose constant is a map file
	// descriptor; the kernel replaces it with the map's address.
	PseudoMapFD = Register(_BPF_PSEUDO_MAP_FD)
	// PseudoMapValue marks a 64-bit immediate load of the address of a
	// map's value: the low 32 bits of the constant are the map fd, the high
	// 32 bits an offset into the value. Requires kernel 5.2.
	PseudoMapValue = Register(_BPF_PSEUDO_MAP_VALUE)
	// PseudoCall marks a call of another BPF function (bpf-to-bpf call): the
	// constant is the distance to the callee in raw instructions minus one.
	// Requires kernel 4.16.
	PseudoCall = Register(_BPF_PSEUDO_CALL)
	// PseudoFunc marks a 64-bit immediate load of the address of a BPF
	// function, used for callbacks. Requires kernel 5.13.
	PseudoFunc = Register(_BPF_PSEUDO_FUNC)
	// PseudoKfuncCall marks a call of a kernel function (kfunc) by its BTF
	// id. Requires kernel 5.13.
	PseudoKfuncCall = Register(_BPF_PSEUDO_KFUNC_CALL)
	// PseudoMayGoto marks the JCOND jump that encodes may_goto. Requires
	// kernel 6.9.
	PseudoMayGoto = Register(_BPF_MAY_GOTO)

	// The remaining ldimm64 sources, named like the kernel. libbpf-style
	// loaders and fd arrays use them.

	// PseudoBTFID marks a 64-bit immediate load of the address of a kernel
	// variable by BTF id (a ksym). Requires kernel 5.10.
	PseudoBTFID = Register(_BPF_PSEUDO_BTF_ID)
	// PseudoMapIdx is PseudoMapFD with an index into the fd_array of the
	// program load instead of an fd. Requires kernel 5.14.
	PseudoMapIdx = Register(_BPF_PSEUDO_MAP_IDX)
	// PseudoMapIdxValue is PseudoMapValue with an index into the fd_array.
	// Requires kernel 5.14.
	PseudoMapIdxValue = Register(_BPF_PSEUDO_MAP_IDX_VALUE)
)

// String returns the register's name as the kernel's verifier log spells
// it ("r0" ... "r9", "rfp" for R10).
func (r Register) String() string {
	switch {
	case r == RFP:
		return "rfp"
	case r < 10:
		return regNames[r*2 : r*2+2]
	}
	return "r" + strconv.Itoa(int(r))
}

const regNames = "r0r1r2r3r4r5r6r7r8r9"
