package epoll

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// ErrFlushed is returned by Wait after Flush woke it. The ringbuf and perf
// packages export it as their own ErrFlushed.
var ErrFlushed = errors.New("data was flushed")

var (
	errClosed   = fmt.Errorf("epoll: %w", os.ErrClosed)
	errDeadline = fmt.Errorf("epoll wait: %w", os.ErrDeadlineExceeded)
)

// Ids of the poller's own eventfds; callers' ids are not negative.
const (
	closeID = -1
	flushID = -2
)

// Poller waits on a set of file descriptors. Add, Wait, Flush and Close may
// be called from different goroutines.
type Poller struct {
	// mu is held shared by every call that uses the fds, and exclusively by
	// Close while it frees them, so that no fd number is closed (and
	// perhaps reused) under a running epoll_wait.
	mu     sync.RWMutex
	closed bool // guarded by mu

	// closing is set by the first Close before it takes mu, so that
	// Waits it has woken do not block again.
	closing atomic.Bool

	epfd    int
	closeFd int // eventfd, readable from Close on
	flushFd int // eventfd, readable from Flush until a Wait consumes it
}

// New creates a Poller: an epoll instance and two eventfds, three fds in
// all, released by Close.
func New() (_ *Poller, err error) {
	p := &Poller{epfd: -1, closeFd: -1, flushFd: -1}
	defer func() {
		if err != nil {
			p.closeFds()
		}
	}()

	if p.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("epoll create: %w", err)
	}
	if p.closeFd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	if p.flushFd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	if err := p.add(p.closeFd, closeID); err != nil {
		return nil, err
	}
	if err := p.add(p.flushFd, flushID); err != nil {
		return nil, err
	}
	return p, nil
}

// Add makes Wait report fd when it is readable (EPOLLIN), tagged with id,
// which EventID returns. id must be in [0, MaxInt32]. The caller keeps
// ownership of fd; closing it removes it from the Poller.
func (p *Poller) Add(fd int, id int) error {
	if id < 0 || id > math.MaxInt32 {
		return fmt.Errorf("epoll add: id %d outside [0, %d]", id, math.MaxInt32)
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errClosed
	}
	return p.add(fd, id)
}

func (p *Poller) add(fd, id int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd), Pad: int32(id)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll add fd %d: %w", fd, err)
	}
	return nil
}

// EventID returns the id that Add gave to the fd of ev.
func EventID(ev unix.EpollEvent) int {
	return int(ev.Pad)
}

// Wait blocks until at least one added fd is readable, deadline passes,
// Flush or Close is called. It stores the ready fds' events in events and
// returns how many it stored. A zero deadline waits without limit; a
// deadline in the past polls once.
//
// Errors: os.ErrDeadlineExceeded (wrapped) when the deadline passed with
// nothing ready; ErrFlushed after Flush, in which case the events of fds
// that were ready at the same time are returned too; os.ErrClosed (wrapped)
// once Close has been called. Interrupted system calls are retried. Wait
// does not allocate.
func (p *Poller) Wait(events []unix.EpollEvent, deadline time.Time) (int, error) {
	if len(events) == 0 {
		return 0, errors.New("epoll wait: no room for events")
	}
	p.mu.RLock()
	defer p.mu.RUnlock()

	for {
		if p.closed || p.closing.Load() {
			return 0, errClosed
		}

		timeout := -1
		if !deadline.IsZero() {
			timeout = timeoutMillis(time.Until(deadline))
		}
		n, err := unix.EpollWait(p.epfd, events, timeout)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("epoll wait: %w", err)
		}
		if n == 0 {
			// The timeout is rounded up to whole milliseconds, so the
			// deadline has passed; check anyway in case the clock disagrees.
			if deadline.IsZero() || time.Now().Before(deadline) {
				continue
			}
			return 0, errDeadline
		}

		ready, closed, flushed := 0, false, false
		for _, ev := range events[:n] {
			switch EventID(ev) {
			case closeID:
				closed = true
			case flushID:
				flushed = true
			default:
				events[ready] = ev
				ready++
			}
		}
		if closed {
			return 0, errClosed
		}
		// Two concurrent Waits may both see one Flush: the one that
		// resets the counter reports it.
		if flushed && p.consumeFlush() {
			return ready, ErrFlushed
		}
		if ready > 0 {
			return ready, nil
		}
	}
}

// timeoutMillis converts the time left to epoll_wait's timeout: rounded up
// so that Wait never returns before its deadline, 0 for a deadline that has
// passed, capped to what an int32 holds (Wait then waits again).
func timeoutMillis(left time.Duration) int {
	if left <= 0 {
		return 0
	}
	ms := (left + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(ms)
}

func (p *Poller) consumeFlush() bool {
	var buf [8]byte
	_, err := unix.Read(p.flushFd, buf[:])
	return err == nil
}

// Flush wakes a blocked Wait, which returns ErrFlushed. When no Wait is
// blocked, the next one returns ErrFlushed at once. Several Flushes before a
// Wait count as one. Cost: one write(2).
func (p *Poller) Flush() error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errClosed
	}
	return signal(p.flushFd)
}

// signal adds one to an eventfd's counter, making it readable.
func signal(fd int) error {
	var buf [8]byte
	// binary.NativeEndian, unlike an interface value, keeps buf on the stack.
	binary.NativeEndian.PutUint64(buf[:], 1)
	if _, err := unix.Write(fd, buf[:]); err != nil {
		return fmt.Errorf("eventfd write: %w", err)
	}
	return nil
}

// Close wakes every blocked Wait (they return os.ErrClosed), waits for them
// to return, and releases the Poller's fds. Closing again does nothing. The
// fds given to Add stay open.
func (p *Poller) Close() error {
	if !p.closing.CompareAndSwap(false, true) {
		return nil
	}
	// Wake Waits before taking mu: they hold it shared while they block.
	// The close eventfd is never read, so it stays readable for every
	// Wait that is still to wake.
	wakeErr := signal(p.closeFd)

	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return errors.Join(wakeErr, p.closeFds())
}

func (p *Poller) closeFds() error {
	var errs []error
	for _, fd := range []*int{&p.flushFd, &p.closeFd, &p.epfd} {
		if *fd >= 0 {
			if err := unix.Close(*fd); err != nil {
				errs = append(errs, fmt.Errorf("close fd %d: %w", *fd, err))
			}
			*fd = -1
		}
	}
	return errors.Join(errs...)
}
