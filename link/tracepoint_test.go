package link

import (
	"os"
	"runtime"
	"testing"
	"unsafe"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// The tracepoint tests attach to task/task_rename, which fires only when a
// thread renames itself, and never to a syscall tracepoint. The first
// program on any syscall tracepoint (a perf event on syscalls/sys_enter_*,
// a raw or BTF tracepoint on sys_enter) and the removal of the last one
// rewrite a jump in the kernel's syscall entry (syscall_trace_enter) while
// every thread of the test process, the Go runtime's own included, runs
// through it. Under qemu's TCG, with the host busy, a virtual CPU that
// raced with that rewrite went on executing the breakpoint the kernel
// places there during the rewrite and had already removed, forever: both
// CPUs stuck in syscall_trace_enter, soft lockups, the VM test run hung
// (Debian 6.1). The kernel rewrites task_rename's call site just the same,
// but nothing runs through it unless a test renames a thread.
const (
	tpGroup = "task"
	tpName  = "task_rename"
)

// renames fires task/task_rename n times: the calling thread sets its name
// to the one it has (prctl PR_SET_NAME). A program on the tracepoint runs
// synchronously inside each call, so counters have moved when it returns.
func renames(t testing.TB, n int) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var name [16]byte // TASK_COMM_LEN, NUL-terminated
	ptr := uintptr(unsafe.Pointer(&name[0]))
	qt.Assert(t, qt.IsNil(unix.Prctl(unix.PR_GET_NAME, ptr, 0, 0, 0)))
	for range n {
		qt.Assert(t, qt.IsNil(unix.Prctl(unix.PR_SET_NAME, ptr, 0, 0, 0)))
	}
}

func TestTracepoint(t *testing.T) {
	testutils.MountTracefs(t)
	obj := loadObject(t, "link_tracepoint")
	prog := obj.program("tp_getpid")

	for _, cookie := range []uint64{0, 0xc0ffee} {
		obj.reset("getpid_count")
		l, err := Tracepoint(tpGroup, tpName, prog, &TracepointOptions{Cookie: cookie})
		skipUnlessSupported(t, err)
		keep(t, l)
		renames(t, 5)
		qt.Assert(t, qt.IsTrue(obj.counter("getpid_count") >= 5))

		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.Type, PerfEventType))
		pe := info.PerfEvent()
		qt.Assert(t, qt.IsNotNil(pe))
		if kernelAtLeast(t, "6.6") { // perf event details
			qt.Assert(t, qt.Equals(pe.Type, PerfEventTracepoint))
			want := &TracepointInfo{Tracepoint: tpName}
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
		renames(t, 5)
		// Other processes may rename their threads, but our own renames
		// no longer count: allow for a few foreign ones.
		qt.Assert(t, qt.IsTrue(obj.counter("getpid_count")-before < 5))
	}
}

func TestTracepointErrors(t *testing.T) {
	testutils.MountTracefs(t)
	obj := loadObject(t, "link_tracepoint")
	prog := obj.program("tp_getpid")
	raw := obj.program("raw_sys_enter")

	_, err := Tracepoint(tpGroup, "bpfkit_no_such_event", prog, nil)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	_, err = Tracepoint(tpGroup, tpName, raw, nil)
	qt.Assert(t, qt.ErrorMatches(err, `.*want TracePoint`))
	_, err = Tracepoint("", tpName, prog, nil)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = Tracepoint(tpGroup, tpName, nil, nil)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = Tracepoint("../"+tpGroup, tpName, prog, nil)
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
	renames(t, 3)
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
	fd, err := tracepointEvent(tpGroup, tpName)
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

	l, err := AttachRawTracepoint(RawTracepointOptions{Name: tpName, Program: prog})
	qt.Assert(t, qt.IsNil(err))
	keep(t, l)
	renames(t, 5)
	qt.Assert(t, qt.IsTrue(obj.counter("raw_count") >= 5))

	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, RawTracepointType))
	qt.Assert(t, qt.DeepEquals(info.RawTracepoint(), &RawTracepointInfo{Name: tpName}))
	qt.Assert(t, qt.ErrorIs(l.Update(prog), ErrNotSupported))
	pinAndReload(t, l)
	mustClose(t, l)

	// Once closed, the process's own renames no longer count (the
	// program filters on target_tgid).
	before := obj.counter("raw_count")
	renames(t, 5)
	qt.Assert(t, qt.Equals(obj.counter("raw_count"), before))

	_, err = AttachRawTracepoint(RawTracepointOptions{Name: "bpfkit_no_such_tracepoint", Program: prog})
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	_, err = AttachRawTracepoint(RawTracepointOptions{Name: "", Program: prog})
	qt.Assert(t, qt.IsNotNil(err))
}
