package sys

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ErrClosedFd is returned when an FD is used after Close or Disown.
var ErrClosedFd = unix.EBADF

// FD owns a file descriptor of a kernel object (map, program, link, BTF,
// token). It is always close-on-exec and never 0, since code that stores a
// descriptor in a struct often reads 0 as "unset": NewFD moves descriptor 0
// elsewhere.
//
// An FD that the garbage collector finds unreachable before Close is
// closed by a runtime cleanup; EnableFDLeakTracking turns such leaks into
// reports for tests. Close, Disown and the accessors may be called from
// several goroutines.
type FD struct {
	raw     atomic.Int64 // -1 once closed or disowned
	cleanup runtime.Cleanup
	track   *fdTrack // nil unless leak tracking was on at creation
}

// NewFD takes ownership of raw, a close-on-exec descriptor (bpf(2) always
// returns those). Descriptor 0 is duplicated to the lowest free number
// above 0 and closed. On error raw is closed. Costs one allocation and the
// registration of a runtime cleanup.
func NewFD(raw int) (*FD, error) {
	if raw < 0 {
		return nil, fmt.Errorf("new fd %d: %w", raw, unix.EBADF)
	}
	if raw == 0 {
		dup, err := unix.FcntlInt(0, unix.F_DUPFD_CLOEXEC, 1)
		unix.Close(0)
		if err != nil {
			return nil, fmt.Errorf("move fd 0 out of the way: %w", err)
		}
		raw = dup
	}
	fd := &FD{track: newTrack()}
	fd.raw.Store(int64(raw))
	fd.cleanup = runtime.AddCleanup(fd, closeLost, lostFD{raw, fd.track})
	fd.track.register(fd)
	return fd, nil
}

// lostFD is what the runtime cleanup of an FD needs; it must not refer to
// the FD itself.
type lostFD struct {
	raw   int
	track *fdTrack
}

func closeLost(l lostFD) {
	unix.Close(l.raw)
	l.track.leaked()
}

// Int returns the descriptor, or -1 after Close or Disown. The caller must
// keep fd reachable (runtime.KeepAlive) until it no longer uses the number.
func (fd *FD) Int() int {
	return int(fd.raw.Load())
}

// Uint returns the descriptor as the __u32 of wire structs. After Close it
// is 0xffffffff, which the kernel rejects.
func (fd *FD) Uint() uint32 {
	return uint32(fd.raw.Load())
}

// String describes the descriptor for messages: "fd 7" or "fd closed".
func (fd *FD) String() string {
	raw := fd.raw.Load()
	if raw < 0 {
		return "fd closed"
	}
	return "fd " + strconv.FormatInt(raw, 10)
}

// Close closes the descriptor. It is idempotent: calls after the first
// (and calls on a nil FD) return nil.
func (fd *FD) Close() error {
	if fd == nil {
		return nil
	}
	raw := fd.raw.Swap(-1)
	if raw < 0 {
		return nil
	}
	fd.cleanup.Stop()
	fd.track.forget()
	return unix.Close(int(raw))
}

// Disown gives up ownership and returns the descriptor, which the caller
// must close; fd is closed afterwards. It returns -1 if fd was closed.
func (fd *FD) Disown() int {
	raw := fd.raw.Swap(-1)
	if raw < 0 {
		return -1
	}
	fd.cleanup.Stop()
	fd.track.forget()
	return int(raw)
}

// Dup returns a new FD for the same kernel object, close-on-exec and above
// 0. One fcntl(2) call and one allocation.
func (fd *FD) Dup() (*FD, error) {
	raw := fd.raw.Load()
	if raw < 0 {
		return nil, fmt.Errorf("dup: %w", ErrClosedFd)
	}
	dup, err := unix.FcntlInt(uintptr(raw), unix.F_DUPFD_CLOEXEC, 1)
	runtime.KeepAlive(fd)
	if err != nil {
		return nil, fmt.Errorf("dup %s: %w", fd, err)
	}
	return NewFD(dup)
}

// File returns an *os.File for a duplicate of the descriptor, named name;
// fd stays open and owned by the caller.
func (fd *FD) File(name string) (*os.File, error) {
	dup, err := fd.Dup()
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(dup.Disown()), name), nil
}
