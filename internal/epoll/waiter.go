package epoll

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Waiter is the blocking half of a reader of kernel rings (ringbuf, perf):
// a Poller over the rings' fds, a deadline that may change while a Wait
// blocks, and the deadline or Flush that a Wait saw, held back until the
// caller has read what its rings held at that moment. Records below a
// wake-up watermark, or published without a wake-up, are returned that way
// before the error.
//
// SetDeadline, Flush, Close and Closing may be called from any goroutine at
// any time. Wait must be serialized by the caller (readers hold their own
// lock around it), since the held-back error is the caller's state.
type Waiter struct {
	poller  *Poller
	prefix  string // of Wait's and Flush's errors: "perf reader"
	closed  error  // what Wait and Flush return after Close
	pending error  // deadline or flush seen by Wait; guarded by the caller

	deadlineMu sync.Mutex
	deadline   time.Time
}

// NewWaiter creates a Waiter and its Poller (three fds, released by
// Close). Wait and Flush wrap their failures as "prefix: ...", and return
// closed, which should wrap os.ErrClosed, once Close has been called.
func NewWaiter(prefix string, closed error) (*Waiter, error) {
	p, err := New()
	if err != nil {
		return nil, err
	}
	return &Waiter{poller: p, prefix: prefix, closed: closed}, nil
}

// Add makes Wait report fd, tagged with id (see Poller.Add).
func (w *Waiter) Add(fd, id int) error {
	return w.poller.Add(fd, id)
}

// SetDeadline sets the deadline of later Waits; the zero time removes it.
// A Wait already blocked keeps the deadline it started with.
func (w *Waiter) SetDeadline(t time.Time) {
	w.deadlineMu.Lock()
	w.deadline = t
	w.deadlineMu.Unlock()
}

func (w *Waiter) getDeadline() time.Time {
	w.deadlineMu.Lock()
	defer w.deadlineMu.Unlock()
	return w.deadline
}

// Wait is what a reader does when its rings are empty.
//
// If an earlier Wait saw the deadline pass or a Flush, Wait returns that
// error now: the caller has read the rings since. Otherwise it blocks until
// an fd is readable, and returns the n events it stored in events. When
// instead the deadline passes or Flush is called, it returns all = true and
// no error, and keeps the error for the next Wait: the caller reads every
// ring, not only those that woke it, and then calls Wait again. Close makes
// it return the closed error; any other failure is wrapped with the
// prefix. It does not allocate.
func (w *Waiter) Wait(events []unix.EpollEvent) (n int, all bool, err error) {
	if err := w.pending; err != nil {
		w.pending = nil
		return 0, false, err
	}
	n, err = w.poller.Wait(events, w.getDeadline())
	switch {
	case err == nil:
		return n, false, nil
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, ErrFlushed):
		w.pending = err
		return 0, true, nil
	case errors.Is(err, os.ErrClosed):
		return 0, false, w.closed
	default:
		return 0, false, fmt.Errorf("%s: %w", w.prefix, err)
	}
}

// Flush makes a blocked Wait, or the next one, report ErrFlushed as
// described at Wait. Several Flushes before a Wait count as one. Cost: one
// write(2) to an eventfd.
func (w *Waiter) Flush() error {
	if err := w.poller.Flush(); err != nil {
		if errors.Is(err, os.ErrClosed) {
			return w.closed
		}
		return fmt.Errorf("%s: flush: %w", w.prefix, err)
	}
	return nil
}

// Close wakes every blocked Wait, which returns the closed error, waits
// for them to leave epoll_wait and releases the Poller (see Poller.Close).
// Only then may the caller unmap or close what its rings use. Closing again
// does nothing.
func (w *Waiter) Close() error {
	return w.poller.Close()
}

// Closing reports whether Close has been called (it may still be
// running). A reader that spins without waiting checks it to give up.
func (w *Waiter) Closing() bool {
	return w.poller.closing.Load()
}
