package ebpf

import (
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestProgramInfo(t *testing.T) {
	testutils.RequireRoot(t)
	spec := returnProgram("info_prog", 3)
	prog := mustNewProgram(t, spec, ProgramOptions{})

	info, err := prog.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(info.Type, SocketFilter))
	qt.Check(t, qt.Equals(info.Name, "info_prog"))
	ok, err := spec.Instructions.HasTag(info.Tag, internal.NativeEndian)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.IsTrue(ok), qt.Commentf("tag %s", info.Tag))

	id, ok := info.ID()
	qt.Check(t, qt.IsTrue(ok && id > 0))
	uid, ok := info.CreatedByUID()
	qt.Check(t, qt.IsTrue(ok))
	qt.Check(t, qt.Equals(uid, uint32(0)))
	lt, ok := info.LoadTime()
	qt.Check(t, qt.IsTrue(ok && lt > 0))
	n, ok := info.VerifiedInstructions()
	qt.Check(t, qt.IsTrue(ok))
	qt.Check(t, qt.Equals(n, uint32(2)))
	mem, ok := info.Memlock()
	qt.Check(t, qt.IsTrue(ok && mem > 0))
	_, ok = info.BTFID()
	qt.Check(t, qt.IsFalse(ok))

	size, err := info.TranslatedSize()
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(size, 16))
	jsize, err := info.JitedSize()
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.IsTrue(jsize > 0))
	jited, ok := info.JitedInsns()
	qt.Check(t, qt.IsTrue(ok))
	qt.Check(t, qt.HasLen(jited, int(jsize)))
	addrs, ok := info.JitedKsymAddrs()
	qt.Check(t, qt.IsTrue(ok))
	qt.Check(t, qt.HasLen(addrs, 1))
	lens, ok := info.JitedFuncLens()
	qt.Check(t, qt.IsTrue(ok))
	qt.Check(t, qt.DeepEquals(lens, []uint32{jsize}))

	insns, err := info.Instructions()
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.DeepEquals(insns, asm.Instructions{
		asm.Mov.Imm(asm.R0, 3).WithSymbol("info_prog"),
		asm.Return(),
	}))
}

func TestProgramStats(t *testing.T) {
	testutils.RequireRoot(t)
	prog := mustNewProgram(t, returnProgram("stats_prog", 0), ProgramOptions{})

	stats, err := prog.Stats()
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(stats.RunCount, uint64(0)))

	closer, err := EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	_, err = prog.Run(&RunOptions{Data: packet, Repeat: 10})
	qt.Assert(t, qt.IsNil(closer.Close()))
	qt.Assert(t, qt.IsNil(err))

	stats, err = prog.Stats()
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(stats.RunCount, uint64(10)))
	qt.Check(t, qt.IsTrue(stats.Runtime > 0))

	info, err := prog.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.DeepEquals(&info.stats, stats))
}
