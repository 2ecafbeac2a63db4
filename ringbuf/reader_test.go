package ringbuf

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestReaderOutputSizes(t *testing.T) {
	tr := newTestRing(t, 16384)
	rd := newTestReader(t, tr)
	qt.Assert(t, qt.Equals(rd.BufferSize(), 16384))

	sizes := []int{0, 1, 7, 8, 9, 15, 16, 17, 100, 511, 512}
	total := 0
	for _, n := range sizes {
		tr.output(t, uint32(n), 0)
		total += recordSize(n)
	}
	qt.Assert(t, qt.Equals(rd.AvailableBytes(), total))

	var rec Record
	for i, n := range sizes {
		qt.Assert(t, qt.IsNil(rd.ReadInto(&rec)))
		qt.Assert(t, sameSample(rec.RawSample, tr.outputSample(uint64(i), n)), qt.Commentf("sample %d", i))
		total -= recordSize(n)
		qt.Assert(t, qt.Equals(rec.Remaining, total))
		qt.Assert(t, qt.Equals(rd.AvailableBytes(), total))
	}
}

func TestReaderSubmitAndDiscard(t *testing.T) {
	tr := newTestRing(t, 16384)
	rd := newTestReader(t, tr)

	ops := []uint32{opSubmit, opDiscard, opDiscard, opSubmit, opOutput, opDiscard, opSubmit, opDiscard}
	for _, op := range ops {
		qt.Assert(t, qt.Equals(tr.run(t, op, 24, 0, 1), xdpPass))
	}
	var got [][]byte
	rd.SetDeadline(time.Now().Add(-time.Second))
	for {
		rec, err := rd.Read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		qt.Assert(t, qt.IsNil(err))
		got = append(got, rec.RawSample)
	}
	want := [][]byte{tr.submitSample(0), tr.submitSample(3), tr.outputSample(4, 24), tr.submitSample(6)}
	qt.Assert(t, sameSample(got, want))
	qt.Assert(t, qt.Equals(rd.AvailableBytes(), 0))
}

// TestReaderWrapsAround pushes records of every size class through the
// smallest ring (one page) many times, so records straddle its end and are
// read through the second mapping of the data.
func TestReaderWrapsAround(t *testing.T) {
	size := os.Getpagesize()
	tr := newTestRing(t, uint32(size))
	rd := newTestReader(t, tr)

	var rec Record
	seq := uint64(0)
	passed := 0
	for i := 0; passed < 20*size; i++ {
		n := (i * 37) % (maxSample + 1)
		tr.output(t, uint32(n), 0)
		qt.Assert(t, qt.IsNil(rd.ReadInto(&rec)))
		qt.Assert(t, sameSample(rec.RawSample, tr.outputSample(seq, n)), qt.Commentf("record %d", seq))
		qt.Assert(t, qt.Equals(rec.Remaining, 0))
		seq++
		passed += recordSize(n)
	}
}

// TestReaderFullRing fills the ring until the program's bpf_ringbuf_output
// fails, then reads everything back in order.
func TestReaderFullRing(t *testing.T) {
	size := os.Getpagesize()
	tr := newTestRing(t, uint32(size))
	rd := newTestReader(t, tr)

	const n = 100
	published := 0
	for tr.run(t, opOutput, n, 0, 1) == xdpPass {
		published++
	}
	// The kernel refuses a record once it wouldn't fit in the data area.
	qt.Assert(t, qt.Equals(published, size/recordSize(n)))
	qt.Assert(t, qt.Equals(rd.AvailableBytes(), published*recordSize(n)))

	rd.SetDeadline(time.Now())
	var rec Record
	for i := range published {
		qt.Assert(t, qt.IsNil(rd.ReadInto(&rec)))
		qt.Assert(t, sameSample(rec.RawSample, tr.outputSample(uint64(i), n)))
	}
	qt.Assert(t, qt.ErrorIs(rd.ReadInto(&rec), os.ErrDeadlineExceeded))
	// The failed run still counted: the next sample carries its number.
	tr.output(t, n, 0)
	qt.Assert(t, qt.IsNil(rd.ReadInto(&rec)))
	qt.Assert(t, sameSample(rec.RawSample, tr.outputSample(uint64(published+1), n)))
}

func TestReaderDeadline(t *testing.T) {
	tr := newTestRing(t, 16384)
	rd := newTestReader(t, tr)

	// A deadline in the past on an empty ring returns at once, every time.
	rd.SetDeadline(time.Now().Add(-time.Hour))
	for range 2 {
		_, err := rd.Read()
		qt.Assert(t, qt.ErrorIs(err, os.ErrDeadlineExceeded))
	}

	// Records published without a wake-up are found when the deadline
	// passes, before the deadline error.
	tr.output(t, 10, rbNoWakeup)
	tr.output(t, 11, rbNoWakeup)
	rd.SetDeadline(time.Now().Add(20 * time.Millisecond))
	for i, n := range []int{10, 11} {
		rec, err := rd.Read()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, sameSample(rec.RawSample, tr.outputSample(uint64(i), n)))
	}
	start := time.Now()
	deadline := start.Add(30 * time.Millisecond)
	rd.SetDeadline(deadline)
	_, err := rd.Read()
	qt.Assert(t, qt.ErrorIs(err, os.ErrDeadlineExceeded))
	qt.Assert(t, qt.IsFalse(time.Now().Before(deadline)))

	// The zero time removes the deadline: Read blocks until a record comes.
	rd.SetDeadline(time.Time{})
	done := make(chan Record)
	go func() {
		rec, err := rd.Read()
		if err != nil {
			t.Error(err)
		}
		done <- rec
	}()
	tr.output(t, 5, 0)
	rec := <-done
	qt.Assert(t, sameSample(rec.RawSample, tr.outputSample(2, 5)))
}

func TestReaderWakeup(t *testing.T) {
	tr := newTestRing(t, 16384)
	rd := newTestReader(t, tr)

	// A blocked Read wakes for each normally published record, and for a
	// forced wake-up.
	for i, flags := range []uint64{0, rbForceWakeup, 0} {
		done := make(chan error, 1)
		var rec Record
		go func() { done <- rd.ReadInto(&rec) }()
		tr.output(t, 33, flags)
		qt.Assert(t, qt.IsNil(<-done))
		qt.Assert(t, sameSample(rec.RawSample, tr.outputSample(uint64(i), 33)))
	}
}

func TestReaderFlush(t *testing.T) {
	tr := newTestRing(t, 16384)
	rd := newTestReader(t, tr)

	// Flush unblocks a blocked Read.
	done := make(chan error)
	go func() {
		_, err := rd.Read()
		done <- err
	}()
	qt.Assert(t, qt.IsNil(rd.Flush()))
	qt.Assert(t, qt.ErrorIs(<-done, ErrFlushed))

	// Records in the ring come first, then ErrFlushed once; then Read
	// waits again.
	tr.output(t, 8, rbNoWakeup)
	tr.output(t, 9, rbNoWakeup)
	qt.Assert(t, qt.IsNil(rd.Flush()))
	qt.Assert(t, qt.IsNil(rd.Flush()))
	for i, n := range []int{8, 9} {
		rec, err := rd.Read()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, sameSample(rec.RawSample, tr.outputSample(uint64(i), n)))
	}
	_, err := rd.Read()
	qt.Assert(t, qt.ErrorIs(err, ErrFlushed))
	rd.SetDeadline(time.Now())
	_, err = rd.Read()
	qt.Assert(t, qt.ErrorIs(err, os.ErrDeadlineExceeded))
}

func TestReaderClose(t *testing.T) {
	tr := newTestRing(t, 16384)
	rd, err := NewReader(tr.Events)
	qt.Assert(t, qt.IsNil(err))

	// Close interrupts every blocked Read, from any goroutine; Flush,
	// SetDeadline and AvailableBytes may run concurrently.
	const readers = 4
	done := make(chan error, readers)
	for range readers {
		go func() {
			var rec Record
			done <- rd.ReadInto(&rec)
		}()
	}
	go rd.SetDeadline(time.Time{})
	go rd.AvailableBytes()
	qt.Assert(t, qt.IsNil(rd.Close()))
	for range readers {
		err := <-done
		qt.Assert(t, qt.ErrorIs(err, ErrClosed))
	}

	_, err = rd.Read()
	qt.Assert(t, qt.ErrorIs(err, os.ErrClosed))
	qt.Assert(t, qt.ErrorMatches(err, "ringbuf reader: file already closed"))
	qt.Assert(t, qt.ErrorIs(rd.Flush(), ErrClosed))
	qt.Assert(t, qt.Equals(rd.AvailableBytes(), 0))
	qt.Assert(t, qt.Equals(rd.BufferSize(), 16384))
	qt.Assert(t, qt.IsNil(rd.Close()))

	// The ring outlives neither the Reader nor the map: a new Reader on
	// the same map sees what was published meanwhile.
	tr.output(t, 4, 0)
	rd2 := newTestReader(t, tr)
	rec, err := rd2.Read()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, sameSample(rec.RawSample, tr.outputSample(0, 4)))
}

func TestReaderOutlivesMap(t *testing.T) {
	tr := newTestRing(t, 16384)
	rd := newTestReader(t, tr)
	// The program and the Reader's mapping keep the ring alive.
	qt.Assert(t, qt.IsNil(tr.Events.Close()))
	tr.output(t, 12, 0)
	rec, err := rd.Read()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, sameSample(rec.RawSample, tr.outputSample(0, 12)))
}

func TestNewReaderErrors(t *testing.T) {
	testutils.RequireRoot(t)
	arr, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	defer arr.Close()
	_, err = NewReader(arr)
	qt.Assert(t, qt.ErrorMatches(err, `ringbuf: map Array#fd \d+ is of type Array, need RingBuf`))

	_, err = NewReader(nil)
	qt.Assert(t, qt.ErrorMatches(err, "ringbuf: nil map"))

	tr := newTestRing(t, 16384)
	fds := testutils.OpenFDs(t)
	defer func() { mmap, munmap = unix.Mmap, unix.Munmap }()
	for fail := 1; fail <= 2; fail++ {
		calls, mapped := 0, map[*byte]bool{}
		mmap = func(fd int, offset int64, length, prot, flags int) ([]byte, error) {
			if calls++; calls == fail {
				return nil, unix.ENOMEM
			}
			b, err := unix.Mmap(fd, offset, length, prot, flags)
			if err == nil {
				mapped[&b[0]] = true
			}
			return b, err
		}
		munmap = func(b []byte) error {
			delete(mapped, &b[0])
			return unix.Munmap(b)
		}
		_, err := NewReader(tr.Events)
		qt.Assert(t, qt.ErrorIs(err, unix.ENOMEM))
		qt.Assert(t, qt.ErrorMatches(err, `ringbuf: map RingBuf\(events\)#fd \d+: mmap .*: cannot allocate memory`))
		qt.Assert(t, qt.HasLen(mapped, 0), qt.Commentf("mmap %d failed: mappings left", fail))
		qt.Assert(t, qt.Equals(testutils.OpenFDs(t), fds), qt.Commentf("mmap %d failed: descriptors left", fail))
	}
}
