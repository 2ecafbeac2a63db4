package ebpf

import (
	"errors"
	"io"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
	"github.com/bpfkit/ebpf/internal/typeprobe"
)

func TestMapInfo(t *testing.T) {
	u32 := &btf.Int{Name: "u32", Size: 4}
	m := newTestMap(t, &MapSpec{Name: "info", Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 3, Flags: sys.BPF_F_NO_PREALLOC, Key: u32, Value: u32})
	info, err := m.Info()
	qt.Assert(t, qt.IsNil(err))
	want := &MapInfo{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 3, Flags: sys.BPF_F_NO_PREALLOC, Name: "info"}
	qt.Assert(t, qt.CmpEquals(info, want, cmp.Comparer(func(a, b *MapInfo) bool {
		return a.Type == b.Type && a.KeySize == b.KeySize && a.ValueSize == b.ValueSize &&
			a.MaxEntries == b.MaxEntries && a.Flags == b.Flags && a.Name == b.Name
	})))
	id, ok := info.ID()
	qt.Assert(t, qt.IsTrue(ok && id > 0))
	_, ok = info.BTFID()
	qt.Assert(t, qt.IsTrue(ok))
	memlock, ok := info.Memlock()
	qt.Assert(t, qt.IsTrue(ok && memlock > 0))
	qt.Assert(t, qt.IsFalse(info.Frozen()))
	_, ok = info.MapExtra()
	qt.Assert(t, qt.IsFalse(ok))

	h, err := m.Handle()
	qt.Assert(t, qt.IsNil(err))
	spec, err := h.Spec(nil)
	qt.Assert(t, qt.IsNil(err))
	var key *btf.Int
	qt.Assert(t, qt.IsNil(spec.TypeByName("u32", &key)))
	qt.Assert(t, qt.IsNil(h.Close()))
	plain := newTestMap(t, &MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	_, err = plain.Handle()
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))

	// The same map by ID and by a duplicated descriptor.
	byID, err := NewMapFromID(id)
	qt.Assert(t, qt.IsNil(err))
	defer byID.Close()
	qt.Assert(t, qt.Equals(byID.String(), "Hash(info)#"+byID.fd.String()))
	qt.Assert(t, qt.IsNil(byID.Put(uint32(1), uint32(1))))
	var v uint32
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(1), &v)))

	dup, err := unix.FcntlInt(uintptr(m.FD()), unix.F_DUPFD_CLOEXEC, 1)
	qt.Assert(t, qt.IsNil(err))
	byFD, err := NewMapFromFD(dup)
	qt.Assert(t, qt.IsNil(err))
	defer byFD.Close()
	qt.Assert(t, qt.Equals(byFD.MaxEntries(), 3))
	qt.Assert(t, qt.Equals(byFD.Flags(), sys.BPF_F_NO_PREALLOC))

	// Listing IDs finds the map.
	found := false
	for next := MapID(0); ; {
		next, err = MapGetNextID(next)
		if errors.Is(err, unix.ENOENT) {
			break
		}
		qt.Assert(t, qt.IsNil(err))
		if next == id {
			found = true
		}
	}
	qt.Assert(t, qt.IsTrue(found))

	_, err = NewMapFromID(MapID(0x7fffffff))
	qt.Assert(t, qt.ErrorIs(err, unix.ENOENT))
	_, err = NewMapFromFD(-1)
	qt.Assert(t, qt.ErrorIs(err, unix.EBADF))

	// A program is not a map.
	prog := mapTestProgram(t, 0)
	pfd, err := unix.FcntlInt(uintptr(prog.FD()), unix.F_DUPFD_CLOEXEC, 1)
	qt.Assert(t, qt.IsNil(err))
	_, err = NewMapFromFD(pfd)
	qt.Assert(t, qt.ErrorMatches(err, `fd \d+ refers to a bpf-prog, not a bpf-map`))
}

func TestMapClone(t *testing.T) {
	m := newTestMap(t, &MapSpec{Name: "orig", Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	dir := testutils.TempBPFFS(t)
	qt.Assert(t, qt.IsNil(m.Pin(dir+"/orig")))
	clone, err := m.Clone()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsFalse(clone.IsPinned()))
	qt.Assert(t, qt.Not(qt.Equals(clone.FD(), m.FD())))
	qt.Assert(t, qt.IsNil(clone.Put(uint32(1), uint32(5))))
	qt.Assert(t, qt.IsNil(clone.Close()))
	var v uint32
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(1), &v)))
	qt.Assert(t, qt.Equals(v, 5))

	none, err := (*Map)(nil).Clone()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsNil(none))
}

func TestMapFreeze(t *testing.T) {
	testutils.RequireRoot(t)
	testutils.SkipIfNotSupported(t, haveMapMutabilityModifiers())
	m := newTestMap(t, &MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	qt.Assert(t, qt.IsNil(m.Put(uint32(0), uint32(1))))
	qt.Assert(t, qt.IsNil(m.Freeze()))
	err := m.Put(uint32(0), uint32(2))
	qt.Assert(t, qt.ErrorIs(err, unix.EPERM))
	qt.Assert(t, qt.StringContains(err.Error(), "frozen or read-only map?"))
	var v uint32
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(0), &v)))
	qt.Assert(t, qt.Equals(v, 1))
	info, err := m.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(info.Frozen()))

	// Constant data sections are frozen after they are filled.
	rodata := newTestMap(t, &MapSpec{Name: ".rodata", Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1,
		Flags: sys.BPF_F_RDONLY_PROG, Contents: []MapKV{{uint32(0), uint32(7)}}})
	info, err = rodata.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(info.Frozen()))
	qt.Assert(t, qt.IsNil(rodata.Lookup(uint32(0), &v)))
	qt.Assert(t, qt.Equals(v, 7))
}

func TestMemory(t *testing.T) {
	testutils.RequireRoot(t)
	testutils.SkipIfNotSupported(t, haveMmapableMaps())
	m := newTestMap(t, &MapSpec{Type: Array, KeySize: 4, ValueSize: 12, MaxEntries: 3, Flags: sys.BPF_F_MMAPABLE})
	mem, err := m.Memory()
	qt.Assert(t, qt.IsNil(err))
	again, err := m.Memory()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(mem, again))
	qt.Assert(t, qt.Equals(int(mem.Size()), pageSize()))
	qt.Assert(t, qt.IsFalse(mem.ReadOnly()))

	// Elements are 8-byte aligned: element 1 starts at 16.
	qt.Assert(t, qt.IsNil(m.Put(uint32(1), [3]uint32{1, 2, 3})))
	got := make([]byte, 12)
	n, err := mem.ReadAt(got, 16)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(n, 12))
	var want [3]uint32
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(1), &want)))
	qt.Assert(t, qt.Equals(want, [3]uint32{1, 2, 3}))

	_, err = mem.WriteAt([]byte{9, 0, 0, 0}, 32)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(2), &want)))
	qt.Assert(t, qt.Equals(want[0], 9))

	// Bounds.
	end := int64(mem.Size())
	n, err = mem.ReadAt(make([]byte, 8), end-4)
	qt.Assert(t, qt.Equals(n, 4))
	qt.Assert(t, qt.ErrorIs(err, io.EOF))
	_, err = mem.ReadAt(make([]byte, 1), end+1)
	qt.Assert(t, qt.ErrorMatches(err, `read at offset \d+ of \d+ bytes of memory: out of range`))
	_, err = mem.WriteAt([]byte{1}, -1)
	qt.Assert(t, qt.IsNotNil(err))
	n, err = mem.WriteAt([]byte{1, 2}, end-1)
	qt.Assert(t, qt.Equals(n, 1))
	qt.Assert(t, qt.ErrorIs(err, io.EOF))
	_, err = mem.slice(uint32(end)-2, 4)
	qt.Assert(t, qt.IsNotNil(err))
	s, err := mem.slice(16, 4)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(s, 4))

	// A frozen map maps read-only.
	frozen := newTestMap(t, &MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: sys.BPF_F_MMAPABLE})
	qt.Assert(t, qt.IsNil(frozen.Freeze()))
	fm, err := frozen.Memory()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(fm.ReadOnly()))
	_, err = fm.WriteAt([]byte{1}, 0)
	qt.Assert(t, qt.ErrorIs(err, ErrReadOnly))

	plain := newTestMap(t, &MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	_, err = plain.Memory()
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
}

func pageSize() int { return unix.Getpagesize() }

func TestPossibleCPU(t *testing.T) {
	n, err := PossibleCPU()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(n >= 1))
	qt.Assert(t, qt.Equals(MustPossibleCPU(), n))
}

func TestMapTypeForPlatform(t *testing.T) {
	mt, err := MapTypeForPlatform("linux", 27)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(mt, RingBuf))
	_, err = MapTypeForPlatform("windows", 1)
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
}

func TestHaveMapType(t *testing.T) {
	testutils.RequireRoot(t)
	forbidden := map[MapType]bool{}
	for mt := Hash; mt <= Arena; mt++ {
		err := haveMapType(mt)
		if perr := (*sys.PermissionError)(nil); errors.As(err, &perr) && perr.Privileged {
			// Not a conclusive answer, so not memoized: left out below.
			t.Run(mt.String(), func(t *testing.T) { testutils.SkipIfForbidden(t, err, mt.String()+" maps") })
			forbidden[mt] = true
			continue
		}
		if err != nil {
			qt.Assert(t, qt.ErrorIs(err, ErrNotSupported), qt.Commentf("%s", mt))
			qt.Assert(t, qt.StringContains(err.Error(), typeprobe.MapTypeName(sys.MapType(mt))))
		}
	}
	qt.Assert(t, qt.ErrorIs(haveMapType(UnspecifiedMap), ErrNotSupported))

	// The answers are internal/typeprobe's, which features shares: asking
	// there again, or for a program type asked here, makes no system call.
	qt.Assert(t, qt.IsNil(haveProgramType(XDP)))
	calls := 0
	restore := sys.InjectFaults(func(sys.Cmd, int) error {
		calls++
		return nil
	})
	for mt := Hash; mt <= Arena; mt++ {
		if forbidden[mt] {
			continue
		}
		qt.Assert(t, qt.Equals(typeprobe.HaveMapType(mt), haveMapType(mt)))
	}
	qt.Assert(t, qt.IsNil(typeprobe.HaveProgType(XDP)))
	restore()
	qt.Assert(t, qt.Equals(calls, 0))
}
