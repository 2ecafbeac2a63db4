package features

import (
	"errors"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// HaveLargeInstructions reports whether programs may have more than 4096
// instructions (Linux 5.2, commit c04c0d2b968a "bpf: increase complexity
// limit and maximum program size"); see the package documentation for
// what the error means. The probe loads a socket filter of 4097
// instructions the first time.
func HaveLargeInstructions() error {
	return haveLargeInstructions()
}

var haveLargeInstructions = internal.NewFeatureTest("more than 4096 instructions per program", func() error {
	const oldLimit = 4096 // BPF_MAXINSNS
	insns := make(asm.Instructions, 0, oldLimit+1)
	for range oldLimit {
		insns = append(insns, asm.Mov.Imm(asm.R0, 0))
	}
	insns = append(insns, asm.Return())
	return probeSpec(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, Instructions: insns, License: "GPL"})
}, "5.2")

// HaveBoundedLoops reports whether the verifier accepts loops it can prove
// to end (Linux 5.3, commit 2589726d12a1 "bpf: introduce bounded loops");
// see the package documentation for what the error means. The probe loads
// a socket filter with a backward jump the first time.
func HaveBoundedLoops() error {
	return haveBoundedLoops()
}

var haveBoundedLoops = internal.NewFeatureTest("bounded loops", func() error {
	return probeSpec(&ebpf.ProgramSpec{
		Type: ebpf.SocketFilter,
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 10),
			asm.Sub.Imm(asm.R0, 1).WithSymbol("loop"),
			asm.JNE.Imm(asm.R0, 0, "loop"),
			asm.Return(),
		},
		License: "GPL",
	})
}, "5.3")

// HaveV2ISA reports whether the kernel has the v2 instruction set, the
// jumps on less-than (JLT, JLE, JSLT, JSLE; Linux 4.14, commit
// 92b31a9af73b); see the package documentation for what the error means.
// Objects compiled with clang -mcpu=v2 need it.
func HaveV2ISA() error {
	return haveV2ISA()
}

var haveV2ISA = internal.NewFeatureTest("v2 ISA (JLT, JLE, JSLT, JSLE)", func() error {
	return probeISA(asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.JLT.Imm(asm.R0, 0, "exit"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return().WithSymbol("exit"),
	})
}, "4.14")

// HaveV3ISA reports whether the kernel has the v3 instruction set, the
// 32-bit jumps of the JMP32 class (Linux 5.1, commit 092ed0968bb6); see the
// package documentation for what the error means. Objects compiled with
// clang -mcpu=v3 need it.
func HaveV3ISA() error {
	return haveV3ISA()
}

var haveV3ISA = internal.NewFeatureTest("v3 ISA (32-bit jumps)", func() error {
	return probeISA(asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.JLT.Imm32(asm.R0, 0, "exit"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return().WithSymbol("exit"),
	})
}, "5.1")

// HaveV4ISA reports whether the kernel has the v4 instruction set:
// sign-extending loads and moves, byte swaps, signed division and gotol
// (Linux 6.6, commit 1f9a1ea821ff); see the package documentation for what
// the error means. Objects compiled with clang -mcpu=v4 need it. The probe
// uses gotol.
func HaveV4ISA() error {
	return haveV4ISA()
}

var haveV4ISA = internal.NewFeatureTest("v4 ISA (sign extension, bswap, sdiv, gotol)", func() error {
	return probeISA(asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.JEq.Imm(asm.R0, 1, "error"),
		asm.LongJump("exit"),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("error"),
		asm.Return().WithSymbol("exit"),
	})
}, "6.6")

// probeISA loads insns as a socket filter. Besides the verifier's EINVAL,
// a JIT without the instructions may answer ENOTSUPP.
func probeISA(insns asm.Instructions) error {
	err := probeSpec(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, Instructions: insns, License: "GPL"})
	if errors.Is(err, sys.ENOTSUPP) {
		return ebpf.ErrNotSupported
	}
	return err
}
