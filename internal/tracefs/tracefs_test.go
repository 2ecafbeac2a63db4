package tracefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestPathAndEventID(t *testing.T) {
	mnt := testutils.MountTracefs(t)
	path, err := Path()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(path, mnt))

	// sched_switch exists in every kernel with tracepoints.
	want, err := os.ReadFile(filepath.Join(mnt, "events/sched/sched_switch/id"))
	qt.Assert(t, qt.IsNil(err))
	id, err := EventID("sched", "sched_switch")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fmt.Sprint(id)+"\n", string(want)))

	_, err = EventID("sched", "bpfkit_no_such_event")
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.ErrorMatches(err, `trace event sched/bpfkit_no_such_event: open .*: no such file or directory`))

	for _, gn := range [][2]string{{"..", "sched"}, {"sched", "../sched"}, {"", "x"}, {"x", ""}, {"sched/sched_switch", "id"}, {"sched", "sched_switch/../../x"}} {
		_, err := EventID(gn[0], gn[1])
		qt.Assert(t, qt.ErrorIs(err, os.ErrInvalid), qt.Commentf("%q", gn))
	}
}

func TestSyscallTracepoint(t *testing.T) {
	testutils.MountTracefs(t)
	_, err := EventID("syscalls", "sys_enter_getpid")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS):", err)
	}
	qt.Assert(t, qt.IsNil(err))
}

//go:noinline
func uprobeTarget(x int) int { return x*3 + 1 }

// uprobeOffset returns the test binary and the file offset of
// uprobeTarget's first instruction, found through the mapping that holds
// it (test binaries carry no symbol table).
func uprobeOffset(tb testing.TB) (string, uint64) {
	tb.Helper()
	exe, err := os.Executable()
	qt.Assert(tb, qt.IsNil(err))
	addr := uint64(reflect.ValueOf(uprobeTarget).Pointer())

	maps, err := os.ReadFile("/proc/self/maps")
	qt.Assert(tb, qt.IsNil(err))
	for line := range strings.SplitSeq(string(maps), "\n") {
		// start-end perms offset dev inode path
		var start, end, off uint64
		var perms, dev, path string
		var inode uint64
		if n, _ := fmt.Sscanf(line, "%x-%x %s %x %s %d %s", &start, &end, &perms, &off, &dev, &inode, &path); n != 7 {
			continue
		}
		if start <= addr && addr < end && path == exe {
			qt.Assert(tb, qt.StringContains(perms, "x"))
			return exe, addr - start + off
		}
	}
	tb.Fatalf("uprobeTarget at %#x is in no mapping of %s", addr, exe)
	return "", 0
}

// eventsLines returns the probes listed in tracefs' events file for typ.
func eventsLines(tb testing.TB, typ ProbeType) string {
	tb.Helper()
	root, err := Path()
	qt.Assert(tb, qt.IsNil(err))
	data, err := os.ReadFile(filepath.Join(root, typ.eventsFile()))
	qt.Assert(tb, qt.IsNil(err))
	return string(data)
}

func newEvent(tb testing.TB, args ProbeArgs) *Event {
	tb.Helper()
	evt, err := NewEvent(args)
	testutils.SkipIfNotSupported(tb, err)
	qt.Assert(tb, qt.IsNil(err))
	tb.Cleanup(func() { evt.Close() })
	return evt
}

func TestUprobeEvent(t *testing.T) {
	testutils.MountTracefs(t)
	exe, off := uprobeOffset(t)

	for _, tc := range []struct {
		name string
		args ProbeArgs
		line string // as uprobe_events lists it, after the group/name
	}{
		{"uprobe", ProbeArgs{Symbol: "uprobeTarget"}, fmt.Sprintf(" %s:0x%016x", exe, off)},
		{"uretprobe", ProbeArgs{Symbol: "uprobeTarget", Ret: true}, fmt.Sprintf(" %s:0x%016x", exe, off)},
		{"ref_ctr_offset", ProbeArgs{RefCtrOffset: 0x40}, fmt.Sprintf(" %s:0x%016x(0x40)", exe, off)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			args.Type, args.Path, args.Offset = Uprobe, exe, off
			evt := newEvent(t, args)
			qt.Assert(t, qt.Matches(evt.Group(), GroupPrefix+`_.*`))

			id, err := EventID(evt.Group(), evt.Name())
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(evt.ID(), id))

			kind := "p"
			if args.Ret {
				kind = "r"
			}
			want := kind + ":" + evt.Group() + "/" + evt.Name() + tc.line
			qt.Assert(t, qt.StringContains(eventsLines(t, Uprobe), want+"\n"))

			qt.Assert(t, qt.IsNil(evt.Close()))
			_, err = EventID(evt.Group(), evt.Name())
			qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
			qt.Assert(t, qt.Not(qt.StringContains(eventsLines(t, Uprobe), evt.Group())))
			qt.Assert(t, qt.IsNil(evt.Close()))
		})
	}
}

func TestUprobeEventErrors(t *testing.T) {
	testutils.MountTracefs(t)
	exe, off := uprobeOffset(t)

	_, err := NewEvent(ProbeArgs{Type: Uprobe, Path: "/bpfkit/no/such/binary", Offset: off})
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.ErrorMatches(err, `uprobe /bpfkit/no/such/binary:0x[0-9a-f]+: writing ".*": not found: no such file or directory`))

	group, err := RandomGroup()
	qt.Assert(t, qt.IsNil(err))
	args := ProbeArgs{Type: Uprobe, Path: exe, Offset: off, Group: group}
	first := newEvent(t, args)
	qt.Assert(t, qt.Equals(first.Group(), group))
	_, err = NewEvent(args)
	qt.Assert(t, qt.ErrorIs(err, os.ErrExist))
}

// openTracepoint opens a perf event on the trace event id, which keeps the
// event in use until the fd is closed.
func openTracepoint(tb testing.TB, id uint64) int {
	tb.Helper()
	attr := unix.PerfEventAttr{
		Type:   unix.PERF_TYPE_TRACEPOINT,
		Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Config: id,
	}
	fd, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
	qt.Assert(tb, qt.IsNil(err))
	return fd
}

func TestCloseBusyEvent(t *testing.T) {
	testutils.MountTracefs(t)
	exe, off := uprobeOffset(t)
	evt := newEvent(t, ProbeArgs{Type: Uprobe, Path: exe, Offset: off})

	fd := openTracepoint(t, evt.ID())
	err := evt.Close()
	qt.Assert(t, qt.ErrorIs(err, unix.EBUSY))
	qt.Assert(t, qt.ErrorMatches(err, `uprobe event .* is still in use, close its perf event first: .*device or resource busy`))
	// Still there, so it can be removed later.
	_, err = EventID(evt.Group(), evt.Name())
	qt.Assert(t, qt.IsNil(err))

	qt.Assert(t, qt.IsNil(unix.Close(fd)))
	qt.Assert(t, qt.IsNil(evt.Close()))
	_, err = EventID(evt.Group(), evt.Name())
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
}

func TestCloseRemovedEvent(t *testing.T) {
	testutils.MountTracefs(t)
	exe, off := uprobeOffset(t)
	evt := newEvent(t, ProbeArgs{Type: Uprobe, Path: exe, Offset: off})

	// Someone else removed it: Close has nothing left to do.
	qt.Assert(t, qt.IsNil(removeEvent(Uprobe, evt.Group(), evt.Name())))
	qt.Assert(t, qt.IsNil(evt.Close()))
}

func TestEventGarbageCollected(t *testing.T) {
	testutils.MountTracefs(t)
	exe, off := uprobeOffset(t)
	evt, err := NewEvent(ProbeArgs{Type: Uprobe, Path: exe, Offset: off})
	qt.Assert(t, qt.IsNil(err))
	group, name := evt.Group(), evt.Name()
	evt = nil
	_ = evt

	// Cleanups run on their own goroutine after a GC cycle finds the
	// Event unreachable; give them a bounded number of cycles.
	for range 100 {
		runtime.GC()
		runtime.Gosched()
		if _, err := EventID(group, name); errors.Is(err, os.ErrNotExist) {
			return
		}
	}
	removeEvent(Uprobe, group, name)
	t.Fatalf("event %s/%s survived its Event", group, name)
}

func TestKprobeEvent(t *testing.T) {
	testutils.MountTracefs(t)
	evt := newEvent(t, ProbeArgs{Type: Kprobe, Symbol: "bpf_prog_put"})
	qt.Assert(t, qt.StringContains(eventsLines(t, Kprobe), evt.Group()+"/"+evt.Name()))
	qt.Assert(t, qt.IsNil(evt.Close()))

	evt = newEvent(t, ProbeArgs{Type: Kprobe, Symbol: "bpf_prog_put", Ret: true, RetMaxActive: 32})
	qt.Assert(t, qt.StringContains(eventsLines(t, Kprobe), "r32:"+evt.Group()+"/"+evt.Name()))
	qt.Assert(t, qt.IsNil(evt.Close()))

	_, err := NewEvent(ProbeArgs{Type: Kprobe, Symbol: "bpfkit_no_such_function"})
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	_, err = NewEvent(ProbeArgs{Type: Kprobe, Symbol: "bpfkit_no_such_function", Ret: true})
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
}

func TestPMU(t *testing.T) {
	typ, err := PMUType(Uprobe)
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	want, err := os.ReadFile("/sys/bus/event_source/devices/uprobe/type")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fmt.Sprint(typ)+"\n", string(want)))

	bit, err := PMUConfigBit(Uprobe, FormatRetprobe)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(bit, 0))
	bit, err = PMUConfigBit(Uprobe, FormatRefCtrOffset)
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(bit, 32))

	_, err = PMUConfigBit(Uprobe, "../type")
	qt.Assert(t, qt.ErrorIs(err, os.ErrInvalid))
	_, err = PMUConfigBit(Uprobe, "bpfkit_nope")
	qt.Assert(t, qt.ErrorIs(err, internal.ErrNotSupported))
	qt.Assert(t, qt.ErrorMatches(err, "uprobe PMU format bpfkit_nope not supported"))
	_, err = PMUType(ProbeType(9))
	qt.Assert(t, qt.ErrorIs(err, os.ErrInvalid))
}

func TestPMUMissing(t *testing.T) {
	root := pmuRoot
	t.Cleanup(func() { pmuRoot = root })
	pmuRoot = t.TempDir()

	_, err := readPMUType(Kprobe)
	qt.Assert(t, qt.ErrorIs(err, internal.ErrNotSupported))
	qt.Assert(t, qt.ErrorMatches(err, `kprobe PMU not supported \(requires >= v4.17\)`))

	qt.Assert(t, qt.IsNil(os.MkdirAll(filepath.Join(pmuRoot, "kprobe"), 0o755)))
	qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(pmuRoot, "kprobe", "type"), []byte("6\n"), 0o644)))
	typ, err := readPMUType(Kprobe)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(typ, 6))

	qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(pmuRoot, "kprobe", "type"), []byte("kprobe\n"), 0o644)))
	_, err = readPMUType(Kprobe)
	qt.Assert(t, qt.ErrorMatches(err, `kprobe PMU: .*/kprobe/type: "kprobe\\n": .*invalid syntax`))

	qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(pmuRoot, "kprobe", "type"), []byte(strings.Repeat("1", 100)), 0o644)))
	_, err = readPMUType(Kprobe)
	qt.Assert(t, qt.ErrorMatches(err, `kprobe PMU: read .*: more than 64 bytes`))
}

// TestKprobePMU documents this package's answer on kernels without kprobes:
// the error names the feature and its version.
func TestKprobePMU(t *testing.T) {
	_, err := PMUType(Kprobe)
	if err == nil {
		bit, err := PMUConfigBit(Kprobe, FormatRetprobe)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(bit, 0))
		return
	}
	qt.Assert(t, qt.ErrorIs(err, internal.ErrNotSupported))
	qt.Assert(t, qt.ErrorMatches(err, `kprobe PMU not supported \(requires >= v4.17\)`))
	_, err = PMUConfigBit(Kprobe, FormatRetprobe)
	qt.Assert(t, qt.ErrorIs(err, internal.ErrNotSupported))
}

func BenchmarkEventID(b *testing.B) {
	testutils.MountTracefs(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EventID("sched", "sched_switch"); err != nil {
			b.Fatal(err)
		}
	}
}
