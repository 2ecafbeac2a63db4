package ebpf

import (
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestProgramSpecCompatible(t *testing.T) {
	testutils.RequireRoot(t)

	spec := &ProgramSpec{
		Name: "compat",
		Type: SocketFilter,
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 7),
			asm.Return(),
		},
		License: "MIT",
	}
	prog, err := NewProgram(spec)
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	defer prog.Close()

	info, err := prog.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsNil(spec.Compatible(info)))

	other := spec.Copy()
	other.Instructions[0].Constant = 8
	qt.Assert(t, qt.ErrorIs(other.Compatible(info), ErrProgIncompatible))
}

func TestTypesForPlatform(t *testing.T) {
	pt, err := ProgramTypeForPlatform("linux", uint32(XDP))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(pt, XDP))
	at, err := AttachTypeForPlatform("linux", uint32(AttachXDP))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(at, AttachXDP))
	_, err = ProgramTypeForPlatform("windows", 1)
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
	_, err = AttachTypeForPlatform("windows", 1)
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
}
