package link

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
	"github.com/bpfkit/ebpf/internal/tracefs"
)

// rawTracepointLink attaches a counter program to the raw tracepoint
// task_rename, a link any kernel with links can make (not to sys_enter:
// see tpName).
func rawTracepointLink(t testing.TB) (Link, *ebpf.Program) {
	t.Helper()
	prog, _ := counterProgram(t, ebpf.RawTracepoint, ebpf.AttachNone, 0)
	l, err := AttachRawTracepoint(RawTracepointOptions{Name: tpName, Program: prog})
	qt.Assert(t, qt.IsNil(err))
	keep(t, l)
	return l, prog
}

func TestNewFromFDAndID(t *testing.T) {
	l, _ := rawTracepointLink(t)
	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))

	byID, err := NewFromID(info.ID)
	qt.Assert(t, qt.IsNil(err))
	defer byID.Close()
	qt.Assert(t, qt.Equals(fmt.Sprintf("%T", byID), "*link.rawTracepoint"))
	got, err := byID.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.CmpEquals(got, info, cmp.AllowUnexported(Info{})))

	dup, err := unix.FcntlInt(uintptr(l.(*rawTracepoint).FD()), unix.F_DUPFD_CLOEXEC, 1)
	qt.Assert(t, qt.IsNil(err))
	byFD, err := NewFromFD(dup)
	qt.Assert(t, qt.IsNil(err))
	defer byFD.Close()
	got, err = byFD.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(got.ID, info.ID))

	// Not a link: the descriptor is taken and closed.
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	defer m.Close()
	mdup, err := unix.FcntlInt(uintptr(m.FD()), unix.F_DUPFD_CLOEXEC, 1)
	qt.Assert(t, qt.IsNil(err))
	_, err = NewFromFD(mdup)
	qt.Assert(t, qt.ErrorMatches(err, `.*not a BPF link`))
	qt.Assert(t, qt.ErrorIs(unix.Close(mdup), unix.EBADF))

	_, err = NewFromFD(-1)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = NewFromID(ID(1 << 31))
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
}

func TestIterator(t *testing.T) {
	l, _ := rawTracepointLink(t)
	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))

	var it Iterator
	defer it.Close()
	found := false
	var prev ID
	for it.Next() {
		qt.Assert(t, qt.IsTrue(it.ID > prev))
		prev = it.ID
		if it.ID == info.ID {
			found = true
			taken := it.Take()
			qt.Assert(t, qt.IsNil(it.Link))
			defer taken.Close()
			got, err := taken.Info()
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(got.Program, info.Program))
		}
	}
	qt.Assert(t, qt.IsNil(it.Err()))
	qt.Assert(t, qt.IsTrue(found))
	qt.Assert(t, qt.IsFalse(it.Next()))
}

func TestRawLink(t *testing.T) {
	cg := testCgroup(t)
	prog, m := counterProgram(t, ebpf.CGroupSKB, ebpf.AttachCGroupInetEgress, 1)
	other, m2 := counterProgram(t, ebpf.CGroupSKB, ebpf.AttachCGroupInetEgress, 1)

	l, err := AttachRawLink(RawLinkOptions{Target: cgroupFD(t, cg), Program: prog, Attach: ebpf.AttachCGroupInetEgress})
	qt.Assert(t, qt.IsNil(err))
	keep(t, l)
	qt.Assert(t, qt.IsTrue(l.FD() > 0))
	udpRoundTrip(t)
	qt.Assert(t, qt.IsTrue(count(t, m) >= 1))

	qt.Assert(t, qt.IsNil(l.UpdateArgs(RawLinkUpdateOptions{New: other, Old: prog})))
	udpRoundTrip(t)
	qt.Assert(t, qt.IsTrue(count(t, m2) >= 1))
	qt.Assert(t, qt.IsNotNil(l.UpdateArgs(RawLinkUpdateOptions{})))
	qt.Assert(t, qt.IsNotNil(l.Update(nil)))

	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, CgroupType))

	// Pinning: only on bpffs, never over an existing file.
	dir := testutils.TempBPFFS(t)
	qt.Assert(t, qt.IsNotNil(l.Pin("")))
	qt.Assert(t, qt.ErrorMatches(l.Pin(filepath.Join(t.TempDir(), "pin")), `.*not on a BPF file system.*`))
	path := filepath.Join(dir, "a")
	qt.Assert(t, qt.IsNil(l.Pin(path)))
	qt.Assert(t, qt.IsNil(l.Pin(path)))
	qt.Assert(t, qt.IsTrue(l.IsPinned()))
	occupied := filepath.Join(dir, "b")
	qt.Assert(t, qt.IsNil(os.Mkdir(occupied, 0o700)))
	qt.Assert(t, qt.ErrorIs(l.Pin(occupied), os.ErrExist))
	// A pin someone else removed: the next Pin pins afresh.
	qt.Assert(t, qt.IsNil(os.Remove(path)))
	qt.Assert(t, qt.IsNil(l.Pin(filepath.Join(dir, "c"))))
	// Links open read-write only.
	_, err = LoadPinnedLink(filepath.Join(dir, "c"), &ebpf.LoadPinOptions{ReadOnly: true})
	qt.Assert(t, qt.ErrorIs(err, unix.EINVAL))
	loaded, err := LoadPinnedLink(filepath.Join(dir, "c"), &ebpf.LoadPinOptions{})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fmt.Sprintf("%T", loaded), "*link.linkCgroup"))
	// The pin keeps the link attached after both descriptors close.
	mustClose(t, loaded)
	mustClose(t, l)
	before := count(t, m2)
	udpRoundTrip(t)
	qt.Assert(t, qt.IsTrue(count(t, m2) > before))
	loaded, err = LoadPinnedLink(filepath.Join(dir, "c"), nil)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsNil(loaded.Unpin()))
	qt.Assert(t, qt.IsNil(loaded.Unpin()))
	mustClose(t, loaded)
	before = count(t, m2)
	udpRoundTrip(t)
	qt.Assert(t, qt.Equals(count(t, m2), before))

	// Operations on a closed link fail cleanly.
	_, err = l.Info()
	qt.Assert(t, qt.IsNotNil(err))
	qt.Assert(t, qt.IsNotNil(l.Pin(filepath.Join(dir, "d"))))
	qt.Assert(t, qt.IsNotNil(l.Detach()))
	qt.Assert(t, qt.Equals(l.FD(), -1))

	_, err = LoadPinnedLink(filepath.Join(dir, "missing"), nil)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	mpin := filepath.Join(dir, "map")
	mm, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	defer mm.Close()
	qt.Assert(t, qt.IsNil(mm.Pin(mpin)))
	_, err = LoadPinnedLink(mpin, nil)
	qt.Assert(t, qt.ErrorMatches(err, `.*not a BPF link`))

	_, err = AttachRawLink(RawLinkOptions{Target: -1, Program: prog})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachRawLink(RawLinkOptions{Target: 0})
	qt.Assert(t, qt.IsNotNil(err))
}

func TestUnsupportedOperations(t *testing.T) {
	l, prog := rawTracepointLink(t)
	qt.Assert(t, qt.ErrorIs(l.Update(prog), ErrNotSupported))
	// Raw tracepoint links can't be detached.
	qt.Assert(t, qt.ErrorIs(l.Detach(), ErrNotSupported))

	s := &simpleRawTracepoint{fd: dupFD(t, l.(*rawTracepoint).FD())}
	qt.Assert(t, qt.ErrorIs(s.Update(prog), ErrNotSupported))
	qt.Assert(t, qt.ErrorIs(s.Pin("x"), ErrNotSupported))
	qt.Assert(t, qt.ErrorIs(s.Unpin(), ErrNotSupported))
	qt.Assert(t, qt.ErrorIs(s.Detach(), ErrNotSupported))
	_, err := s.Info()
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
	qt.Assert(t, qt.IsNil(s.Close()))
}

func TestInfoAccessors(t *testing.T) {
	// Each accessor answers only for its own kind.
	info := Info{extra: &XDPInfo{Ifindex: 3}}
	qt.Assert(t, qt.DeepEquals(info.XDP(), &XDPInfo{Ifindex: 3}))
	qt.Assert(t, qt.IsNil(info.TCX()))
	qt.Assert(t, qt.IsNil(info.Cgroup()))
	qt.Assert(t, qt.IsNil(info.Tracing()))
	qt.Assert(t, qt.IsNil(info.NetNs()))
	qt.Assert(t, qt.IsNil(info.Netfilter()))
	qt.Assert(t, qt.IsNil(info.Netkit()))
	qt.Assert(t, qt.IsNil(info.KprobeMulti()))
	qt.Assert(t, qt.IsNil(info.UprobeMulti()))
	qt.Assert(t, qt.IsNil(info.PerfEvent()))
	qt.Assert(t, qt.IsNil(info.RawTracepoint()))
	qt.Assert(t, qt.IsNil(info.Iter()))
	qt.Assert(t, qt.IsNil(info.StructOps()))
	qt.Assert(t, qt.IsNil(info.Sockmap()))

	pe := PerfEventInfo{extra: &UprobeInfo{File: "f"}}
	qt.Assert(t, qt.IsNil(pe.Kprobe()))
	qt.Assert(t, qt.IsNil(pe.Tracepoint()))
	qt.Assert(t, qt.IsNil(pe.Event()))
	qt.Assert(t, qt.Equals(pe.Uprobe().File, "f"))

	km := KprobeMultiInfo{addrs: []uint64{1, 2}, cookies: []uint64{3, 4}}
	addrs, ok := km.Addresses()
	qt.Assert(t, qt.IsTrue(ok))
	qt.Assert(t, qt.DeepEquals(addrs, []KprobeMultiAddress{{1, 3}, {2, 4}}))
	_, ok = (&KprobeMultiInfo{}).Addresses()
	qt.Assert(t, qt.IsFalse(ok))

	um := UprobeMultiInfo{offsets: []uint64{1}, cookies: []uint64{2}, refCtrOffsets: []uint64{3}, pid: 7}
	offs, ok := um.Offsets()
	qt.Assert(t, qt.IsTrue(ok))
	qt.Assert(t, qt.DeepEquals(offs, []UprobeMultiOffset{{1, 2, 3}}))
	pid, ok := um.Pid()
	qt.Assert(t, qt.IsTrue(ok))
	qt.Assert(t, qt.Equals(pid, 7))
	_, ok = (&UprobeMultiInfo{}).Pid()
	qt.Assert(t, qt.IsFalse(ok))
}

func TestAnchorArgs(t *testing.T) {
	for _, tc := range []struct {
		anchor     Anchor
		rel, flags uint32
	}{
		{nil, 0, 0},
		{Head(), 0, sys.BPF_F_BEFORE},
		{Tail(), 0, sys.BPF_F_AFTER},
		{BeforeLinkByID(5), 5, sys.BPF_F_BEFORE | sys.BPF_F_LINK | sys.BPF_F_ID},
		{AfterLinkByID(6), 6, sys.BPF_F_AFTER | sys.BPF_F_LINK | sys.BPF_F_ID},
		{BeforeProgramByID(7), 7, sys.BPF_F_BEFORE | sys.BPF_F_ID},
		{AfterProgramByID(8), 8, sys.BPF_F_AFTER | sys.BPF_F_ID},
		{ReplaceProgramByID(9), 9, sys.BPF_F_REPLACE | sys.BPF_F_ID},
	} {
		rel, flags, err := anchorArgs(tc.anchor, 0)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(rel, tc.rel))
		qt.Assert(t, qt.Equals(flags, tc.flags))
	}
	_, _, err := anchorArgs(nil, sys.BPF_F_BEFORE)
	qt.Assert(t, qt.IsNotNil(err))
	_, _, err = anchorArgs(BeforeProgram(nil), 0)
	qt.Assert(t, qt.IsNotNil(err))
	_, _, err = anchorArgs(BeforeLink(nil), 0)
	qt.Assert(t, qt.IsNotNil(err))
	_, _, err = anchorArgs(AfterLink(&perfEventIoctl{}), 0)
	qt.Assert(t, qt.IsNotNil(err))
}

// TestUprobeFaults fails each bpf(2) call of Uprobe in turn, on the PMU and
// on the tracefs path: every failure must close the perf event and remove
// the trace event.
func TestUprobeFaults(t *testing.T) {
	testutils.MountTracefs(t)
	obj := loadObject(t, "link_uprobe")
	prog := obj.program("on_entry")
	ex := self(t)
	off := funcOffset(t, uprobeTarget)
	qt.Assert(t, qt.IsNil(haveBPFLinkPerfEvent()))

	t.Run("pmu", func(t *testing.T) {
		faultWalk(t, func() (Link, error) {
			return ex.Uprobe("", prog, &UprobeOptions{Address: off, PID: os.Getpid(), Cookie: 1})
		}, nil)
	})
	t.Run("tracefs", func(t *testing.T) {
		faultWalk(t, func() (Link, error) {
			pe, err := openTracefsProbe(&probeArgs{typ: tracefs.Uprobe, path: ex.path, offset: off, pid: os.Getpid(), prefix: "bpfkit_fault"})
			if err != nil {
				return nil, err
			}
			l, err := attachPerfEvent(pe, prog, 1)
			if err != nil {
				pe.Close()
				return nil, err
			}
			return l, nil
		}, func() {
			qt.Assert(t, qt.IsFalse(probeEventExistsPrefix(t, tracefs.Uprobe, "bpfkit_fault_")))
		})
		qt.Assert(t, qt.IsFalse(probeEventExistsPrefix(t, tracefs.Uprobe, "bpfkit_fault_")))
	})
	t.Run("tracepoint", func(t *testing.T) {
		tp := loadObject(t, "link_tracepoint").program("tp_getpid")
		faultWalk(t, func() (Link, error) {
			return Tracepoint(tpGroup, tpName, tp, nil)
		}, nil)
	})
}
