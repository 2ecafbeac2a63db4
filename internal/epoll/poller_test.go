package epoll

import (
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/testutils"
)

func newPoller(tb testing.TB) *Poller {
	tb.Helper()
	p, err := New()
	qt.Assert(tb, qt.IsNil(err))
	tb.Cleanup(func() { p.Close() })
	return p
}

// newPipe returns a pipe whose read end is added to p with id.
func newPipe(tb testing.TB, p *Poller, id int) (r, w int) {
	tb.Helper()
	var fds [2]int
	qt.Assert(tb, qt.IsNil(unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK)))
	tb.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	qt.Assert(tb, qt.IsNil(p.Add(fds[0], id)))
	return fds[0], fds[1]
}

func past() time.Time { return time.Now().Add(-time.Second) }

func TestWaitReady(t *testing.T) {
	p := newPoller(t)
	_, w1 := newPipe(t, p, 1)
	_, w2 := newPipe(t, p, 42)

	events := make([]unix.EpollEvent, 4)
	_, err := p.Wait(events, past())
	qt.Assert(t, qt.ErrorIs(err, os.ErrDeadlineExceeded))

	unix.Write(w2, []byte{1})
	n, err := p.Wait(events, time.Time{})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(n, 1))
	qt.Assert(t, qt.Equals(EventID(events[0]), 42))
	qt.Assert(t, qt.Equals(events[0].Events&unix.EPOLLIN, uint32(unix.EPOLLIN)))

	unix.Write(w1, []byte{1})
	n, err = p.Wait(events, past())
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(n, 2))
	ids := map[int]bool{EventID(events[0]): true, EventID(events[1]): true}
	qt.Assert(t, qt.DeepEquals(ids, map[int]bool{1: true, 42: true}))

	// One slot: the events come out one at a time.
	n, err = p.Wait(events[:1], past())
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(n, 1))
}

func TestWaitDeadline(t *testing.T) {
	p := newPoller(t)
	newPipe(t, p, 0)
	events := make([]unix.EpollEvent, 1)

	start := time.Now()
	deadline := start.Add(20 * time.Millisecond)
	_, err := p.Wait(events, deadline)
	qt.Assert(t, qt.ErrorIs(err, os.ErrDeadlineExceeded))
	qt.Assert(t, qt.ErrorMatches(err, "epoll wait: i/o timeout"))
	qt.Assert(t, qt.IsFalse(time.Now().Before(deadline)), qt.Commentf("Wait returned before its deadline"))

	// A sub-millisecond deadline must not become a busy loop or an early
	// return.
	deadline = time.Now().Add(300 * time.Microsecond)
	_, err = p.Wait(events, deadline)
	qt.Assert(t, qt.ErrorIs(err, os.ErrDeadlineExceeded))
	qt.Assert(t, qt.IsFalse(time.Now().Before(deadline)))
}

func TestTimeoutMillis(t *testing.T) {
	for _, tc := range []struct {
		left time.Duration
		want int
	}{
		{-time.Second, 0},
		{0, 0},
		{1, 1},
		{time.Millisecond, 1},
		{time.Millisecond + 1, 2},
		{time.Second, 1000},
		{1000 * time.Hour, 1<<31 - 1},
	} {
		qt.Assert(t, qt.Equals(timeoutMillis(tc.left), tc.want), qt.Commentf("%v", tc.left))
	}
}

func TestFlush(t *testing.T) {
	p := newPoller(t)
	_, w := newPipe(t, p, 7)
	events := make([]unix.EpollEvent, 4)

	// A Flush with nobody waiting is kept for the next Wait; two count
	// as one.
	qt.Assert(t, qt.IsNil(p.Flush()))
	qt.Assert(t, qt.IsNil(p.Flush()))
	n, err := p.Wait(events, time.Time{})
	qt.Assert(t, qt.ErrorIs(err, ErrFlushed))
	qt.Assert(t, qt.Equals(n, 0))
	_, err = p.Wait(events, past())
	qt.Assert(t, qt.ErrorIs(err, os.ErrDeadlineExceeded))

	// Ready fds are reported along with the flush.
	unix.Write(w, []byte{1})
	qt.Assert(t, qt.IsNil(p.Flush()))
	n, err = p.Wait(events, time.Time{})
	qt.Assert(t, qt.ErrorIs(err, ErrFlushed))
	qt.Assert(t, qt.Equals(n, 1))
	qt.Assert(t, qt.Equals(EventID(events[0]), 7))
}

func TestFlushWakesWait(t *testing.T) {
	p := newPoller(t)
	newPipe(t, p, 0)

	done := make(chan error)
	go func() {
		_, err := p.Wait(make([]unix.EpollEvent, 1), time.Time{})
		done <- err
	}()
	// Whether Flush lands before or during the Wait, the Wait must end
	// with ErrFlushed.
	qt.Assert(t, qt.IsNil(p.Flush()))
	qt.Assert(t, qt.ErrorIs(<-done, ErrFlushed))
}

func TestCloseWakesWaits(t *testing.T) {
	p, err := New()
	qt.Assert(t, qt.IsNil(err))
	_, w := newPipe(t, p, 0)

	const waiters = 8
	var wg sync.WaitGroup
	errs := make(chan error, waiters)
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			events := make([]unix.EpollEvent, 2)
			for {
				_, err := p.Wait(events, time.Time{})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Some data makes a few of them go round the loop while Close runs.
	unix.Write(w, []byte{1})
	qt.Assert(t, qt.IsNil(p.Close()))
	wg.Wait()
	close(errs)
	for err := range errs {
		qt.Assert(t, qt.ErrorIs(err, os.ErrClosed))
	}

	// After Close everything reports os.ErrClosed, and Close is idempotent.
	_, err = p.Wait(make([]unix.EpollEvent, 1), time.Time{})
	qt.Assert(t, qt.ErrorIs(err, os.ErrClosed))
	qt.Assert(t, qt.ErrorMatches(err, "epoll: file already closed"))
	qt.Assert(t, qt.ErrorIs(p.Flush(), os.ErrClosed))
	qt.Assert(t, qt.ErrorIs(p.Add(w, 1), os.ErrClosed))
	qt.Assert(t, qt.IsNil(p.Close()))
}

func TestConcurrentClose(t *testing.T) {
	p, err := New()
	qt.Assert(t, qt.IsNil(err))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			p.Close()
		}()
		go func() {
			defer wg.Done()
			p.Flush()
			p.Wait(make([]unix.EpollEvent, 1), time.Time{})
		}()
	}
	wg.Wait()
}

func TestErrors(t *testing.T) {
	p := newPoller(t)
	_, err := p.Wait(nil, time.Time{})
	qt.Assert(t, qt.ErrorMatches(err, "epoll wait: no room for events"))
	qt.Assert(t, qt.ErrorMatches(p.Add(0, -1), `epoll add: id -1 outside \[0, 2147483647\]`))
	if big := int64(1) << 31; int64(int(big)) == big { // 64-bit int only
		qt.Assert(t, qt.ErrorMatches(p.Add(0, int(big)), `epoll add: id 2147483648 outside .*`))
	}
	err = p.Add(-1, 0)
	qt.Assert(t, qt.ErrorIs(err, unix.EBADF))
	qt.Assert(t, qt.ErrorMatches(err, "epoll add fd -1: bad file descriptor"))
}

func TestCloseReleasesFds(t *testing.T) {
	before := testutils.OpenFDs(t)
	p, err := New()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(testutils.OpenFDs(t), before+3))
	qt.Assert(t, qt.IsNil(p.Close()))
	qt.Assert(t, qt.Equals(testutils.OpenFDs(t), before))
}

func BenchmarkWait(b *testing.B) {
	p := newPoller(b)
	_, w := newPipe(b, p, 1)
	unix.Write(w, []byte{1}) // stays readable: nobody reads the pipe
	events := make([]unix.EpollEvent, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Wait(events, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFlush(b *testing.B) {
	p := newPoller(b)
	events := make([]unix.EpollEvent, 1)
	b.ReportAllocs()
	for b.Loop() {
		p.Flush()
		if _, err := p.Wait(events, time.Time{}); !errors.Is(err, ErrFlushed) {
			b.Fatal(err)
		}
	}
}
