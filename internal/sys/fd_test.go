package sys

import (
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"
)

// devNull opens /dev/null close-on-exec, as a stand-in for a bpf(2) fd.
func devNull(t *testing.T) int {
	t.Helper()
	raw, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	qt.Assert(t, qt.IsNil(err))
	return raw
}

func isOpen(raw int) bool {
	_, err := unix.FcntlInt(uintptr(raw), unix.F_GETFD, 0)
	return err == nil
}

func isCloexec(t *testing.T, raw int) bool {
	t.Helper()
	flags, err := unix.FcntlInt(uintptr(raw), unix.F_GETFD, 0)
	qt.Assert(t, qt.IsNil(err))
	return flags&unix.FD_CLOEXEC != 0
}

func TestFDClose(t *testing.T) {
	raw := devNull(t)
	fd, err := NewFD(raw)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(fd.Int(), raw))
	qt.Check(t, qt.Equals(fd.Uint(), uint32(raw)))
	qt.Check(t, qt.Equals(fd.String(), "fd "+strconv.Itoa(raw)))

	qt.Check(t, qt.IsNil(fd.Close()))
	qt.Check(t, qt.IsFalse(isOpen(raw)))
	qt.Check(t, qt.IsNil(fd.Close()), qt.Commentf("second Close"))
	qt.Check(t, qt.Equals(fd.Int(), -1))
	qt.Check(t, qt.Equals(fd.String(), "fd closed"))
	_, err = fd.Dup()
	qt.Check(t, qt.ErrorIs(err, ErrClosedFd))
	qt.Check(t, qt.Equals(fd.Disown(), -1))

	var nilFD *FD
	qt.Check(t, qt.IsNil(nilFD.Close()))
}

func TestFDRejectsNegative(t *testing.T) {
	_, err := NewFD(-1)
	qt.Check(t, qt.ErrorIs(err, unix.EBADF))
}

// TestFDMovesZero gives NewFD descriptor 0 (stdin is saved and restored
// around the test): the FD must end up above 0, and 0 must be free.
func TestFDMovesZero(t *testing.T) {
	saved, err := unix.FcntlInt(0, unix.F_DUPFD_CLOEXEC, 3)
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() {
		unix.Dup3(saved, 0, 0)
		unix.Close(saved)
	})
	null := devNull(t)
	qt.Assert(t, qt.IsNil(unix.Dup3(null, 0, unix.O_CLOEXEC)))
	unix.Close(null)

	fd, err := NewFD(0)
	qt.Assert(t, qt.IsNil(err))
	defer fd.Close()
	qt.Check(t, qt.IsTrue(fd.Int() > 0))
	qt.Check(t, qt.IsTrue(isCloexec(t, fd.Int())))
	qt.Check(t, qt.IsFalse(isOpen(0)))
}

func TestFDDup(t *testing.T) {
	fd, err := NewFD(devNull(t))
	qt.Assert(t, qt.IsNil(err))
	defer fd.Close()
	dup, err := fd.Dup()
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Not(qt.Equals(dup.Int(), fd.Int())))
	qt.Check(t, qt.IsTrue(isCloexec(t, dup.Int())))
	raw := dup.Int()
	qt.Check(t, qt.IsNil(dup.Close()))
	qt.Check(t, qt.IsFalse(isOpen(raw)))
	qt.Check(t, qt.IsTrue(isOpen(fd.Int())))
}

func TestFDDisown(t *testing.T) {
	fd, err := NewFD(devNull(t))
	qt.Assert(t, qt.IsNil(err))
	raw := fd.Disown()
	qt.Check(t, qt.IsNil(fd.Close()))
	qt.Check(t, qt.IsTrue(isOpen(raw)), qt.Commentf("Close after Disown closed the descriptor"))
	unix.Close(raw)
}

func TestFDFile(t *testing.T) {
	fd, err := NewFD(devNull(t))
	qt.Assert(t, qt.IsNil(err))
	defer fd.Close()
	f, err := fd.File("null")
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(f.Name(), "null"))
	qt.Check(t, qt.Not(qt.Equals(int(f.Fd()), fd.Int())))
	qt.Check(t, qt.IsNil(f.Close()))
	qt.Check(t, qt.IsTrue(isOpen(fd.Int())))
}

func TestFDConcurrentClose(t *testing.T) {
	fd, err := NewFD(devNull(t))
	qt.Assert(t, qt.IsNil(err))
	done := make(chan error)
	for range 4 {
		go func() { done <- fd.Close() }()
	}
	for range 4 {
		qt.Check(t, qt.IsNil(<-done))
	}
}

//go:noinline
func leakFD(t *testing.T) int {
	fd, err := NewFD(devNull(t))
	qt.Assert(t, qt.IsNil(err))
	return fd.Int()
}

// TestFDLeakTracking drops an FD without closing it: the collector must
// close the descriptor and LeakedFDs must name the function that made it.
// The leak is then forgotten, so that TestMain does not report it.
func TestFDLeakTracking(t *testing.T) {
	qt.Assert(t, qt.IsTrue(trackFDs.Load()), qt.Commentf("TestMain enables tracking"))
	leakMu.Lock()
	before := len(leaks)
	leakMu.Unlock()
	t.Cleanup(func() {
		leakMu.Lock()
		leaks = leaks[:before]
		leakMu.Unlock()
	})

	raw := leakFD(t)
	leaked := LeakedFDs()[before:]
	qt.Assert(t, qt.HasLen(leaked, 1))
	qt.Check(t, qt.StringContains(leaked[0], "sys.leakFD"))
	qt.Check(t, qt.StringContains(leaked[0], "fd_test.go"))

	// The cleanup closes the descriptor; wait for it without sleeping by
	// letting the runtime run cleanups until the descriptor is gone.
	for i := 0; isOpen(raw) && i < 1000; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	qt.Check(t, qt.IsFalse(isOpen(raw)))
}

func TestOpenFDs(t *testing.T) {
	before := len(OpenFDs())
	fd, err := NewFD(devNull(t))
	qt.Assert(t, qt.IsNil(err))
	open := OpenFDs()
	qt.Check(t, qt.HasLen(open, before+1))
	qt.Check(t, qt.IsTrue(strings.Contains(strings.Join(open, ""), "TestOpenFDs")))
	fd.Close()
	qt.Check(t, qt.HasLen(OpenFDs(), before))
}
