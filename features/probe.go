package features

import (
	"bytes"
	"errors"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// programLoad is a BPF_PROG_LOAD of a throwaway program.
type programLoad struct {
	typ    ebpf.ProgramType
	attach ebpf.AttachType
	flags  uint32
	insns  asm.Instructions // default: return 0
	log    []byte           // a verifier log buffer, level 1, if not nil
}

var returnZero = asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}

// load loads the program and closes it, returning the kernel's error as
// it is.
func (pl *programLoad) load() error {
	insns := pl.insns
	if insns == nil {
		insns = returnZero
	}
	var code bytes.Buffer
	if err := insns.Marshal(&code, internal.NativeEndian); err != nil {
		return err
	}
	attr := sys.ProgLoadAttr{
		ProgType:           sys.ProgType(pl.typ),
		InsnCnt:            uint32(code.Len() / asm.InstructionSize),
		Insns:              sys.NewSlicePointer(code.Bytes()),
		License:            sys.NewStringPointer("GPL"),
		ExpectedAttachType: sys.AttachType(pl.attach),
		ProgFlags:          pl.flags,
	}
	if pl.log != nil {
		attr.LogLevel = 1
		attr.LogSize = uint32(len(pl.log))
		attr.LogBuf = sys.NewSlicePointer(pl.log)
	}
	if pl.typ == ebpf.Kprobe {
		// Kernels before 5.0 check a kprobe's kernel version.
		if v, err := internal.KernelVersion(); err == nil {
			attr.KernVersion = v.Kernel()
		}
	}
	fd, err := sys.ProgLoad(&attr)
	if err != nil {
		return err
	}
	return fd.Close()
}

// probe loads the program: EINVAL and E2BIG mean the kernel lacks what it
// asks for.
func (pl *programLoad) probe() error {
	err := pl.load()
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.E2BIG) {
		return ebpf.ErrNotSupported
	}
	return err
}

// loadSpec loads spec through the root package (which links jumps and
// resolves attach targets) without a verifier log. EINVAL and E2BIG mean
// the kernel lacks what the program asks for: the error is then
// ebpf.ErrNotSupported.
func loadSpec(spec *ebpf.ProgramSpec) (*ebpf.Program, error) {
	prog, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogDisabled: true})
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.E2BIG) {
		return nil, ebpf.ErrNotSupported
	}
	return prog, err
}

// probeSpec loads spec (see loadSpec) and closes it.
func probeSpec(spec *ebpf.ProgramSpec) error {
	prog, err := loadSpec(spec)
	if err != nil {
		return err
	}
	return prog.Close()
}
