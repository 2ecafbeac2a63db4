package ebpf

import (
	"encoding/binary"
	"fmt"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal"
)

// ProgramSpec is a blueprint for a program: its instructions and everything
// BPF_PROG_LOAD needs. It is a plain value; building or copying one makes
// no syscalls. NewProgram turns it into a kernel object.
type ProgramSpec struct {
	// Name of the program. The kernel keeps the first 15 characters that
	// are alphanumeric, '_' or '.'; names are dropped on kernels before
	// 4.15 that can't take them.
	Name string

	// Type is the program type, e.g. XDP or SocketFilter.
	Type ProgramType

	// Ifindex of the network device to offload the program to, or zero.
	Ifindex uint32

	// AttachType narrows where the program may attach; some program types
	// need it at load time (cgroup, tracing, LSM, ...).
	AttachType AttachType

	// AttachTo names the attach target of tracing, LSM, iterator and
	// extension programs: a kernel function, an LSM hook, an iterator, or a
	// function of AttachTarget. For tracing programs it may be
	// "module:function" to pick a kernel module's function.
	AttachTo string

	// AttachTarget is the program an extension (freplace) or a tracing
	// program attaches to. Nil means the kernel.
	AttachTarget *Program

	// SectionName is the ELF section the program came from, if any.
	SectionName string

	// Instructions of the program and its subprograms. The loader links in
	// subprograms referenced by name and resolves references to maps.
	Instructions asm.Instructions

	// Flags passed to the kernel (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, ...).
	Flags uint32

	// License of the program; some helpers need a GPL-compatible one.
	License string

	// KernelVersion is passed to kernels before 5.0 for kprobes; zero means
	// the running kernel's version.
	KernelVersion uint32

	// ByteOrder the program was compiled for; nil means the host's.
	ByteOrder binary.ByteOrder
}

// Copy returns a copy of the spec whose instructions may be changed without
// affecting the original. Instruction metadata is shared copy-on-write.
func (ps *ProgramSpec) Copy() *ProgramSpec {
	if ps == nil {
		return nil
	}
	cpy := *ps
	cpy.Instructions = make(asm.Instructions, len(ps.Instructions))
	copy(cpy.Instructions, ps.Instructions)
	return &cpy
}

// Tag computes the kernel's tag for the program's instructions in the
// host's byte order, as kernels before 6.18 report it (SHA-1 based).
//
// Deprecated: kernels since 6.18 compute tags differently; use
// ProgramSpec.Compatible to compare a spec with a loaded program.
func (ps *ProgramSpec) Tag() (string, error) {
	return ps.Instructions.Tag(internal.NativeEndian)
}

// Compatible returns nil if the loaded program described by info has the
// same instructions as the spec, judged by the kernel's tag (SHA-1 before
// Linux 6.18, SHA-256 since: both are accepted). Otherwise the error wraps
// ErrProgIncompatible. It makes no syscalls; info comes from Program.Info.
func (ps *ProgramSpec) Compatible(info *ProgramInfo) error {
	ok, err := ps.Instructions.HasTag(info.Tag, internal.NativeEndian)
	if err != nil {
		return fmt.Errorf("program %q: %w", ps.Name, err)
	}
	if !ok {
		return fmt.Errorf("program %q: tag %s of the loaded program doesn't match the spec: %w", ps.Name, info.Tag, ErrProgIncompatible)
	}
	return nil
}
