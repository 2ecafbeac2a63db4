package epoll

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"
)

var errTestClosed = fmt.Errorf("test reader: %w", os.ErrClosed)

func newWaiter(tb testing.TB) *Waiter {
	tb.Helper()
	w, err := NewWaiter("test reader", errTestClosed)
	qt.Assert(tb, qt.IsNil(err))
	tb.Cleanup(func() { w.Close() })
	return w
}

// TestWaiterHoldsBack walks a reader's loop: a ready fd, then a deadline
// and a flush, each reported only on the Wait after the one that saw it.
func TestWaiterHoldsBack(t *testing.T) {
	w := newWaiter(t)
	r, wr := newPipe(t, w.poller, 7)
	events := make([]unix.EpollEvent, 2)

	unix.Write(wr, []byte{1})
	n, all, err := w.Wait(events)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsFalse(all))
	qt.Assert(t, qt.Equals(n, 1))
	qt.Assert(t, qt.Equals(EventID(events[0]), 7))
	var buf [1]byte
	unix.Read(r, buf[:])

	for _, tc := range []struct {
		name  string
		cause func()
		is    error
	}{
		{"deadline", func() { w.SetDeadline(past()) }, os.ErrDeadlineExceeded},
		{"flush", func() { qt.Assert(t, qt.IsNil(w.Flush())) }, ErrFlushed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cause()
			_, all, err := w.Wait(events)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.IsTrue(all))
			_, all, err = w.Wait(events)
			qt.Assert(t, qt.ErrorIs(err, tc.is))
			qt.Assert(t, qt.IsFalse(all))
			w.SetDeadline(time.Time{})
		})
	}
}

func TestWaiterClose(t *testing.T) {
	w := newWaiter(t)
	newPipe(t, w.poller, 0)
	events := make([]unix.EpollEvent, 1)

	done := make(chan error)
	go func() {
		_, _, err := w.Wait(events)
		done <- err
	}()
	qt.Assert(t, qt.IsFalse(w.Closing()))
	qt.Assert(t, qt.IsNil(w.Close()))
	qt.Assert(t, qt.IsTrue(w.Closing()))
	err := <-done
	qt.Assert(t, qt.IsTrue(errors.Is(err, os.ErrClosed)))
	qt.Assert(t, qt.Equals(err, errTestClosed))

	_, _, err = w.Wait(events)
	qt.Assert(t, qt.Equals(err, errTestClosed))
	qt.Assert(t, qt.Equals(w.Flush(), errTestClosed))
	qt.Assert(t, qt.IsNil(w.Close()))
}

func TestWaiterErrors(t *testing.T) {
	w := newWaiter(t)
	_, _, err := w.Wait(nil)
	qt.Assert(t, qt.ErrorMatches(err, "test reader: epoll wait: no room for events"))
}

func BenchmarkWaiterWait(b *testing.B) {
	w := newWaiter(b)
	_, wr := newPipe(b, w.poller, 0)
	unix.Write(wr, []byte{1})
	events := make([]unix.EpollEvent, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := w.Wait(events); err != nil {
			b.Fatal(err)
		}
	}
}
