package link

import (
	"testing"
	"time"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
)

// openCPUClock opens a software CPU clock sampling this thread every
// 100000 ns of CPU time.
func openCPUClock(t testing.TB) int {
	t.Helper()
	attr := unix.PerfEventAttr{
		Type:   unix.PERF_TYPE_SOFTWARE,
		Config: unix.PERF_COUNT_SW_CPU_CLOCK,
		Sample: 100000,
	}
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// spinUntil burns CPU until cond holds or a deadline passes; samples of a
// CPU clock need CPU time, not wall time.
func spinUntil(cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for i := 0; i < 1_000_000; i++ {
			spinSink += i
		}
		if cond() {
			return true
		}
	}
	return cond()
}

var spinSink int

func TestPerfEvent(t *testing.T) {
	obj := loadObject(t, "link_perf_event")
	prog := obj.program("on_sample")

	// The event samples the thread that opened it: stay on it.
	lockThread(t)
	fd := openCPUClock(t)
	l, err := AttachPerfEvent(PerfEventOptions{Program: prog, Event: fd, Cookie: 3})
	skipUnlessSupported(t, err)
	keep(t, l)
	qt.Assert(t, qt.IsTrue(spinUntil(func() bool { return obj.counter("sample_count") >= 1 })))

	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, PerfEventType))
	if kernelAtLeast(t, "6.6") {
		qt.Assert(t, qt.Equals(info.PerfEvent().Type, PerfEventEvent))
		ev := info.PerfEvent().Event()
		// Type is the PMU's: PERF_TYPE_SOFTWARE, or on newer kernels
		// the dynamic type of the cpu_clock PMU.
		qt.Assert(t, qt.Not(qt.Equals(ev.Type, uint32(unix.PERF_TYPE_TRACEPOINT))))
		qt.Assert(t, qt.Equals(ev.Config, uint64(unix.PERF_COUNT_SW_CPU_CLOCK)))
		if kernelAtLeast(t, "6.10") {
			qt.Assert(t, qt.Equals(ev.Cookie, 3))
		}
	}
	pinAndReload(t, l)
	mustClose(t, l)

	// The ioctl path of kernels before 5.15.
	obj.reset("sample_count")
	pe := &perfEvent{fd: dupFD(t, fd)}
	progFD, err := programFD(prog)
	qt.Assert(t, qt.IsNil(err))
	li, err := attachPerfEventIoctl(pe, prog, progFD)
	if err != nil {
		pe.Close()
	}
	qt.Assert(t, qt.IsNil(err))
	keep(t, li)
	qt.Assert(t, qt.IsTrue(spinUntil(func() bool { return obj.counter("sample_count") >= 1 })))
	mustClose(t, li)
}

func TestPerfEventErrors(t *testing.T) {
	obj := loadObject(t, "link_perf_event")
	prog := obj.program("on_sample")

	_, err := AttachPerfEvent(PerfEventOptions{Program: prog, Event: -1})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachPerfEvent(PerfEventOptions{Event: openCPUClock(t)})
	qt.Assert(t, qt.IsNotNil(err))
	// A descriptor that is not a perf event.
	_, err = AttachPerfEvent(PerfEventOptions{Program: prog, Event: 0})
	qt.Assert(t, qt.IsNotNil(err))
	_ = ebpf.PerfEvent
}
