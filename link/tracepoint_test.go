package link

import (
	"os"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// getpids calls getpid(2) n times. The program on sys_enter_getpid runs
// synchronously inside each call, so counters have moved when it returns.
func getpids(n int) {
	for range n {
		unix.Getpid()
	}
}

func TestTracepoint(t *testing.T) {
	testutils.MountTracefs(t)
	obj := loadObject(t, "link_tracepoint")
	prog := obj.program("tp_getpid")

	for _, cookie := range []uint64{0, 0xc0ffee} {
		obj.reset("getpid_count")
		l, err := Tracepoint("syscalls", "sys_enter_getpid", prog, &TracepointOptions{Cookie: cookie})
		skipUnlessSupported(t, err)
		keep(t, l)
		getpids(5)
		qt.Assert(t, qt.IsTrue(obj.counter("getpid_count") >= 5))

		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.Type, PerfEventType))
		pe := info.PerfEvent()
		qt.Assert(t, qt.IsNotNil(pe))
		if kernelAtLeast(t, "6.6") { // perf event details
			qt.Assert(t, qt.Equals(pe.Type, PerfEventTracepoint))
			want := &TracepointInfo{Tracepoint: "sys_enter_getpid"}
			if kernelAtLeast(t, "6.10") { // and their cookies
				want.Cookie = cookie
			}
			qt.Assert(t, qt.DeepEquals(pe.Tracepoint(), want))
		}

		f, err := l.(PerfEvent).PerfEvent()
		qt.Assert(t, qt.IsNil(err))
		f.Close()

		pinAndReload(t, l)
		mustClose(t, l)
		before := obj.counter("getpid_count")
		getpids(5)
		// Other processes may call getpid, but our own calls no longer
		// count: allow for a few foreign ones.
		qt.Assert(t, qt.IsTrue(obj.counter("getpid_count")-before < 5))
	}
}

func TestTracepointErrors(t *testing.T) {
	testutils.MountTracefs(t)
	obj := loadObject(t, "link_tracepoint")
	prog := obj.program("tp_getpid")
	raw := obj.program("raw_sys_enter")

	_, err := Tracepoint("syscalls", "bpfkit_no_such_event", prog, nil)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	_, err = Tracepoint("syscalls", "sys_enter_getpid", raw, nil)
	qt.Assert(t, qt.ErrorMatches(err, `.*want TracePoint`))
	_, err = Tracepoint("", "sys_enter_getpid", prog, nil)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = Tracepoint("syscalls", "sys_enter_getpid", nil, nil)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = Tracepoint("../syscalls", "sys_enter_getpid", prog, nil)
	qt.Assert(t, qt.IsNotNil(err))
}

// TestTracepointIoctl attaches through PERF_EVENT_IOC_SET_BPF, the path of
// kernels before 5.15.
func TestTracepointIoctl(t *testing.T) {
	testutils.MountTracefs(t)
	obj := loadObject(t, "link_tracepoint")
	prog := obj.program("tp_getpid")

	l, err := attachTracepointIoctl(prog)
	qt.Assert(t, qt.IsNil(err))
	keep(t, l)
	getpids(3)
	qt.Assert(t, qt.IsTrue(obj.counter("getpid_count") >= 3))
	qt.Assert(t, qt.ErrorIs(l.Pin("/sys/fs/bpf/x"), ErrNotSupported))
	qt.Assert(t, qt.ErrorIs(l.Unpin(), ErrNotSupported))
	qt.Assert(t, qt.ErrorIs(l.Update(prog), ErrNotSupported))
	qt.Assert(t, qt.ErrorIs(l.Detach(), ErrNotSupported))
	_, err = l.Info()
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
	f, err := l.PerfEvent()
	qt.Assert(t, qt.IsNil(err))
	f.Close()
	mustClose(t, l)
}

func attachTracepointIoctl(prog *ebpf.Program) (*perfEventIoctl, error) {
	fd, err := tracepointEvent("syscalls", "sys_enter_getpid")
	if err != nil {
		return nil, err
	}
	pe := &perfEvent{fd: fd}
	progFD, err := programFD(prog)
	if err != nil {
		pe.Close()
		return nil, err
	}
	l, err := attachPerfEventIoctl(pe, prog, progFD)
	if err != nil {
		pe.Close()
		return nil, err
	}
	return l, nil
}

func TestRawTracepoint(t *testing.T) {
	obj := loadObject(t, "link_tracepoint")
	obj.set("target_tgid", uint32(os.Getpid()))
	prog := obj.program("raw_sys_enter")

	l, err := AttachRawTracepoint(RawTracepointOptions{Name: "sys_enter", Program: prog})
	qt.Assert(t, qt.IsNil(err))
	keep(t, l)
	getpids(5)
	qt.Assert(t, qt.IsTrue(obj.counter("raw_count") >= 5))

	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, RawTracepointType))
	qt.Assert(t, qt.DeepEquals(info.RawTracepoint(), &RawTracepointInfo{Name: "sys_enter"}))
	qt.Assert(t, qt.ErrorIs(l.Update(prog), ErrNotSupported))
	pinAndReload(t, l)
	mustClose(t, l)

	// Once closed, the process's own syscalls no longer count (the
	// program filters on target_tgid).
	before := obj.counter("raw_count")
	getpids(5)
	qt.Assert(t, qt.Equals(obj.counter("raw_count"), before))

	_, err = AttachRawTracepoint(RawTracepointOptions{Name: "bpfkit_no_such_tracepoint", Program: prog})
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	_, err = AttachRawTracepoint(RawTracepointOptions{Name: "", Program: prog})
	qt.Assert(t, qt.IsNotNil(err))
}
