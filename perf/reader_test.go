package perf

import (
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestReaderSamples(t *testing.T) {
	ta := newTestArray(t)
	rd := newTestReader(t, ta, 4096, ReaderOptions{})
	qt.Assert(t, qt.Equals(rd.BufferSize(), os.Getpagesize()))

	sizes := []int{0, 1, 3, 4, 5, 8, 12, 100, 511, 512}
	total := 0
	for _, n := range sizes {
		ta.output(t, 0, uint32(n))
		total += recordSize(n)
	}
	var rec Record
	for i, n := range sizes {
		qt.Assert(t, qt.IsNil(rd.ReadInto(&rec)))
		qt.Assert(t, qt.Equals(rec.CPU, 0))
		ta.checkSample(t, rec, uint64(i), n)
		total -= recordSize(n)
		qt.Assert(t, qt.Equals(rec.Remaining, total))
	}
}

func TestReaderAllCPUs(t *testing.T) {
	ta := newTestArray(t)
	rd := newTestReader(t, ta, 4096, ReaderOptions{})

	cpus := onlineCPUs(t)
	for _, cpu := range cpus {
		ta.output(t, cpu, 16)
	}
	rd.SetDeadline(time.Now().Add(-time.Second))
	var got []int
	for {
		rec, err := rd.Read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		qt.Assert(t, qt.IsNil(err))
		got = append(got, rec.CPU)
		// Runs are numbered in the order of cpus.
		ta.checkSample(t, rec, uint64(slices.Index(cpus, rec.CPU)), 16)
	}
	slices.Sort(got)
	qt.Assert(t, qt.DeepEquals(got, cpus))
}

// TestReaderWrapsAround sends samples of many sizes through a one-page
// ring so that records straddle its end.
func TestReaderWrapsAround(t *testing.T) {
	ta := newTestArray(t)
	rd := newTestReader(t, ta, 1, ReaderOptions{})
	var rec Record
	passed := 0
	for seq := 0; passed < 20*rd.BufferSize(); seq++ {
		n := (seq * 41) % (maxSample + 1)
		ta.output(t, 0, uint32(n))
		qt.Assert(t, qt.IsNil(rd.ReadInto(&rec)))
		ta.checkSample(t, rec, uint64(seq), n)
		qt.Assert(t, qt.Equals(rec.Remaining, 0))
		passed += recordSize(n)
	}
}

func TestReaderLostSamples(t *testing.T) {
	ta := newTestArray(t)
	rd := newTestReader(t, ta, 1, ReaderOptions{})

	const n = 200
	published := 0
	for ta.emit(t, 0, n, 1) == xdpPass {
		published++
	}
	qt.Assert(t, qt.Equals(published, rd.BufferSize()/recordSize(n)))
	// One sample failed above; lose a few more.
	const more = 4
	for range more {
		qt.Assert(t, qt.Equals(ta.emit(t, 0, n, 1), xdpDrop))
	}

	var rec Record
	for i := range published {
		qt.Assert(t, qt.IsNil(rd.ReadInto(&rec)))
		ta.checkSample(t, rec, uint64(i), n)
	}
	// The kernel reports the losses before the next sample that fits.
	ta.output(t, 0, n)
	qt.Assert(t, qt.IsNil(rd.ReadInto(&rec)))
	qt.Assert(t, qt.DeepEquals(rec, Record{CPU: 0, RawSample: rec.RawSample[:0], LostSamples: more + 1, Remaining: recordSize(n)}))
	qt.Assert(t, qt.IsNil(rd.ReadInto(&rec)))
	ta.checkSample(t, rec, uint64(published+more+1), n)
}

func TestReaderDeadlineAndFlush(t *testing.T) {
	ta := newTestArray(t)
	rd := newTestReader(t, ta, 4096, ReaderOptions{})

	rd.SetDeadline(time.Now().Add(-time.Hour))
	for range 2 {
		_, err := rd.Read()
		qt.Assert(t, qt.ErrorIs(err, os.ErrDeadlineExceeded))
	}
	deadline := time.Now().Add(30 * time.Millisecond)
	rd.SetDeadline(deadline)
	_, err := rd.Read()
	qt.Assert(t, qt.ErrorIs(err, os.ErrDeadlineExceeded))
	qt.Assert(t, qt.IsFalse(time.Now().Before(deadline)))

	// Flush unblocks a blocked Read, then the records come first.
	rd.SetDeadline(time.Time{})
	done := make(chan error)
	go func() {
		_, err := rd.Read()
		done <- err
	}()
	qt.Assert(t, qt.IsNil(rd.Flush()))
	qt.Assert(t, qt.ErrorIs(<-done, ErrFlushed))

	ta.output(t, 0, 8)
	qt.Assert(t, qt.IsNil(rd.Flush()))
	rec, err := rd.Read()
	qt.Assert(t, qt.IsNil(err))
	ta.checkSample(t, rec, 0, 8)
	_, err = rd.Read()
	qt.Assert(t, qt.ErrorIs(err, ErrFlushed))

	// A blocked Read wakes for a sample.
	go func() {
		rec, err := rd.Read()
		if err == nil && rec.CPU != 0 {
			err = errors.New("sample from the wrong CPU")
		}
		done <- err
	}()
	ta.output(t, 0, 8)
	qt.Assert(t, qt.IsNil(<-done))
}

// TestReaderWatermark: rings below their wake-up condition are read only
// when the deadline passes; one that reaches it wakes the reader.
func TestReaderWatermark(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  ReaderOptions
		below int // samples of 16 bytes that don't wake the reader
	}{
		{"watermark", ReaderOptions{Watermark: 10 * recordSize(16)}, 9},
		{"wakeup events", ReaderOptions{WakeupEvents: 4}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestArray(t)
			rd := newTestReader(t, ta, 4096, tc.opts)
			for range tc.below {
				ta.output(t, 0, 16)
			}
			deadline := time.Now().Add(50 * time.Millisecond)
			rd.SetDeadline(deadline)
			for i := range tc.below {
				rec, err := rd.Read()
				qt.Assert(t, qt.IsNil(err))
				ta.checkSample(t, rec, uint64(i), 16)
			}
			// epoll did not report the ring before the deadline.
			qt.Assert(t, qt.IsFalse(time.Now().Before(deadline)))
			_, err := rd.Read()
			qt.Assert(t, qt.ErrorIs(err, os.ErrDeadlineExceeded))

			// Reaching the condition wakes a reader without a deadline.
			rd.SetDeadline(time.Time{})
			seq := uint64(tc.below)
			for range tc.below + 1 {
				ta.output(t, 0, 16)
			}
			for i := range tc.below + 1 {
				rec, err := rd.Read()
				qt.Assert(t, qt.IsNil(err))
				ta.checkSample(t, rec, seq+uint64(i), 16)
			}
		})
	}
}

func TestReaderPauseResume(t *testing.T) {
	ta := newTestArray(t)
	rd := newTestReader(t, ta, 4096, ReaderOptions{})

	qt.Assert(t, qt.IsNil(rd.Pause()))
	qt.Assert(t, qt.IsNil(rd.Pause()))
	// No event in the array: bpf_perf_event_output fails with ENOENT.
	qt.Assert(t, qt.Equals(ta.emit(t, 0, 8, 1), xdpDrop))
	// (User space can't look up a perf event array; deleting tells.)
	qt.Assert(t, qt.ErrorIs(ta.Events.Delete(uint32(0)), ebpf.ErrKeyNotExist))

	// Pause and Resume work while a Read blocks.
	type result struct {
		rec Record
		err error
	}
	done := make(chan result)
	go func() {
		rec, err := rd.Read()
		done <- result{rec, err}
	}()
	qt.Assert(t, qt.IsNil(rd.Resume()))
	qt.Assert(t, qt.IsNil(rd.Pause()))
	qt.Assert(t, qt.IsNil(rd.Resume()))
	ta.output(t, 0, 24)
	res := <-done
	qt.Assert(t, qt.IsNil(res.err))
	ta.checkSample(t, res.rec, 1, 24)
}

func TestReaderOverwritable(t *testing.T) {
	ta := newTestArray(t)
	rd := newTestReader(t, ta, 1, ReaderOptions{Overwritable: true})

	_, err := rd.Read()
	qt.Assert(t, qt.ErrorIs(err, errMustBePaused))

	// Three times what fits: the ring keeps the newest.
	const n = 100
	perRing := rd.BufferSize() / recordSize(n)
	total := 3 * perRing
	for range total {
		ta.output(t, 0, n)
	}
	qt.Assert(t, qt.IsNil(rd.Pause()))
	rd.SetDeadline(time.Now())
	var seqs []uint64
	var rec Record
	for {
		err := rd.ReadInto(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(rec.Remaining, -1))
		seq := uint64(len(seqs))
		seq = uint64(total-1) - seq
		ta.checkSample(t, rec, seq, n)
		seqs = append(seqs, seq)
	}
	// Newest first, as many as the ring holds whole (the oldest may be
	// cut by the newest).
	qt.Assert(t, qt.IsTrue(len(seqs) == perRing || len(seqs) == perRing-1), qt.Commentf("read %d of %d", len(seqs), perRing))

	// A new window holds only what was written since the last one.
	qt.Assert(t, qt.IsNil(rd.Resume()))
	ta.output(t, 0, n)
	ta.output(t, 0, 8)
	qt.Assert(t, qt.IsNil(rd.Pause()))
	rd.SetDeadline(time.Now())
	qt.Assert(t, qt.IsNil(rd.ReadInto(&rec)))
	ta.checkSample(t, rec, uint64(total+1), 8)
	qt.Assert(t, qt.IsNil(rd.ReadInto(&rec)))
	ta.checkSample(t, rec, uint64(total), n)
	qt.Assert(t, qt.ErrorIs(rd.ReadInto(&rec), os.ErrDeadlineExceeded))

	// Resume while a paused Read blocks makes it fail.
	rd.SetDeadline(time.Time{})
	done := make(chan error)
	go func() {
		_, err := rd.Read()
		done <- err
	}()
	qt.Assert(t, qt.IsNil(rd.Resume()))
	ta.output(t, 0, 8)
	qt.Assert(t, qt.ErrorIs(<-done, errMustBePaused))
}

func TestReaderClose(t *testing.T) {
	ta := newTestArray(t)
	rd, err := NewReader(ta.Events, 4096)
	qt.Assert(t, qt.IsNil(err))

	const readers = 4
	done := make(chan error, readers)
	for range readers {
		go func() {
			var rec Record
			done <- rd.ReadInto(&rec)
		}()
	}
	go rd.SetDeadline(time.Time{})
	go rd.Pause()
	qt.Assert(t, qt.IsNil(rd.Close()))
	for range readers {
		qt.Assert(t, qt.ErrorIs(<-done, ErrClosed))
	}
	_, err = rd.Read()
	qt.Assert(t, qt.ErrorMatches(err, "perf reader: file already closed"))
	qt.Assert(t, qt.ErrorIs(rd.Pause(), ErrClosed))
	qt.Assert(t, qt.ErrorIs(rd.Resume(), ErrClosed))
	qt.Assert(t, qt.ErrorIs(rd.Flush(), ErrClosed))
	qt.Assert(t, qt.IsNil(rd.Close()))

	// The events left the array although the caller's map is open.
	qt.Assert(t, qt.Equals(ta.emit(t, 0, 8, 1), xdpDrop))
}

func TestReaderOutlivesMap(t *testing.T) {
	ta := newTestArray(t)
	rd := newTestReader(t, ta, 4096, ReaderOptions{})
	// The Reader's own descriptor keeps the entries.
	qt.Assert(t, qt.IsNil(ta.Events.Close()))
	ta.output(t, 0, 8)
	rec, err := rd.Read()
	qt.Assert(t, qt.IsNil(err))
	ta.checkSample(t, rec, 0, 8)
}

func TestNewReaderArguments(t *testing.T) {
	ta := newTestArray(t)
	for _, tc := range []struct {
		name   string
		m      *ebpf.Map
		buffer int
		opts   ReaderOptions
		err    string
	}{
		{"nil map", nil, 4096, ReaderOptions{}, `perf reader: nil map`},
		{"wrong type", ta.Payload, 4096, ReaderOptions{}, `perf reader: map Array\(payload\)#fd \d+ is of type Array, need PerfEventArray`},
		{"no buffer", ta.Events, 0, ReaderOptions{}, `perf reader: perCPUBuffer must be positive, not 0`},
		{"both wake-ups", ta.Events, 4096, ReaderOptions{Watermark: 1, WakeupEvents: 1}, `perf reader: WakeupEvents and Watermark are mutually exclusive`},
		{"negative", ta.Events, 4096, ReaderOptions{WakeupEvents: -1}, `perf reader: negative WakeupEvents \(-1\) or Watermark \(0\)`},
		{"watermark too large", ta.Events, 4096, ReaderOptions{Watermark: 4096}, `perf reader: Watermark 4096 must be smaller than perCPUBuffer 4096`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReaderWithOptions(tc.m, tc.buffer, tc.opts)
			qt.Assert(t, qt.ErrorMatches(err, tc.err))
		})
	}
}

// fakeSyscalls replaces perf_event_open, mmap and munmap for one test and
// tracks the mappings; fail decides the outcome of each perf_event_open
// (by CPU) and mmap (by call number).
type fakeSyscalls struct {
	mapped  map[*byte]bool
	mmapped int
}

func installFakes(t *testing.T, openErr func(cpu int) error, mmapErr func(n int) error) *fakeSyscalls {
	f := &fakeSyscalls{mapped: map[*byte]bool{}}
	t.Cleanup(func() { perfEventOpen, mmap, munmap = unix.PerfEventOpen, unix.Mmap, unix.Munmap })
	perfEventOpen = func(attr *unix.PerfEventAttr, pid, cpu, groupFd int, flags int) (int, error) {
		if err := openErr(cpu); err != nil {
			return -1, err
		}
		return unix.PerfEventOpen(attr, pid, cpu, groupFd, flags)
	}
	mmap = func(fd int, offset int64, length, prot, flags int) ([]byte, error) {
		f.mmapped++
		if err := mmapErr(f.mmapped); err != nil {
			return nil, err
		}
		b, err := unix.Mmap(fd, offset, length, prot, flags)
		if err == nil {
			f.mapped[&b[0]] = true
		}
		return b, err
	}
	munmap = func(b []byte) error {
		delete(f.mapped, &b[0])
		return unix.Munmap(b)
	}
	return f
}

func noErr(int) error { return nil }

// TestNewReaderFaults walks the error paths of NewReader: each leaves no
// descriptor, mapping or array entry behind.
func TestNewReaderFaults(t *testing.T) {
	ta := newTestArray(t)
	cpus := onlineCPUs(t)
	if len(cpus) < 2 || cpus[1] != 1 {
		t.Skip("needs CPUs 0 and 1 online")
	}
	checkClean := func(t *testing.T, f *fakeSyscalls, fds int) {
		t.Helper()
		qt.Assert(t, qt.HasLen(f.mapped, 0), qt.Commentf("mappings left"))
		qt.Assert(t, qt.Equals(testutils.OpenFDs(t), fds), qt.Commentf("descriptors left"))
		for _, cpu := range cpus {
			// Deleting tells whether an entry is there: user space
			// can't look up a perf event array.
			qt.Assert(t, qt.ErrorIs(ta.Events.Delete(uint32(cpu)), ebpf.ErrKeyNotExist), qt.Commentf("entry of CPU %d left", cpu))
		}
	}

	t.Run("perf_event_open", func(t *testing.T) {
		fds := testutils.OpenFDs(t)
		f := installFakes(t, func(cpu int) error {
			if cpu == 1 {
				return unix.EMFILE
			}
			return nil
		}, noErr)
		_, err := NewReader(ta.Events, 4096)
		qt.Assert(t, qt.ErrorIs(err, unix.EMFILE))
		qt.Assert(t, qt.ErrorMatches(err, `perf reader: perf_event_open BPF output event on CPU 1: too many open files`))
		checkClean(t, f, fds)
	})

	t.Run("mmap", func(t *testing.T) {
		fds := testutils.OpenFDs(t)
		f := installFakes(t, noErr, func(n int) error {
			if n == 2 {
				return unix.ENOMEM
			}
			return nil
		})
		_, err := NewReader(ta.Events, 4096)
		qt.Assert(t, qt.ErrorIs(err, unix.ENOMEM))
		qt.Assert(t, qt.ErrorMatches(err, `perf reader: mmap perf ring of CPU 1: cannot allocate memory`))
		checkClean(t, f, fds)
	})

	t.Run("map update", func(t *testing.T) {
		for n := 1; n <= len(cpus); n++ {
			fds := testutils.OpenFDs(t)
			f := installFakes(t, noErr, noErr)
			calls := 0
			restore := sys.InjectFaults(func(cmd sys.Cmd, _ int) error {
				if cmd == sys.BPF_MAP_UPDATE_ELEM {
					if calls++; calls == n {
						return unix.E2BIG
					}
				}
				return nil
			})
			_, err := NewReader(ta.Events, 4096)
			restore()
			qt.Assert(t, qt.ErrorIs(err, unix.E2BIG))
			qt.Assert(t, qt.ErrorMatches(err, `perf reader: store event of CPU \d+: .*`))
			checkClean(t, f, fds)
		}
	})

	t.Run("offline CPU", func(t *testing.T) {
		f := installFakes(t, func(cpu int) error {
			if cpu == 1 {
				return unix.ENODEV
			}
			return nil
		}, noErr)
		rd := newTestReader(t, ta, 4096, ReaderOptions{})
		qt.Assert(t, qt.HasLen(rd.rings, len(cpus)-1))
		qt.Assert(t, qt.Equals(ta.emit(t, 1, 8, 1), xdpDrop))
		ta.output(t, 0, 8)
		rec, err := rd.Read()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(rec.CPU, 0))
		qt.Assert(t, qt.IsNil(rd.Close()))
		qt.Assert(t, qt.HasLen(f.mapped, 0))
	})

	t.Run("all CPUs offline", func(t *testing.T) {
		fds := testutils.OpenFDs(t)
		f := installFakes(t, func(int) error { return unix.ENODEV }, noErr)
		_, err := NewReader(ta.Events, 4096)
		qt.Assert(t, qt.ErrorMatches(err, `perf reader: no online CPU among the first \d+`))
		checkClean(t, f, fds)
	})
}

func TestPerfBufferSize(t *testing.T) {
	page := os.Getpagesize()
	for _, tc := range []struct{ in, pages int }{
		{1, 1}, {page, 1}, {page + 1, 2}, {3 * page, 4}, {4 * page, 4}, {5 * page, 8},
	} {
		got, err := perfBufferSize(tc.in)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(got, (tc.pages+1)*page), qt.Commentf("perCPUBuffer %d", tc.in))
	}
	_, err := perfBufferSize(int(^uint(0) >> 1))
	qt.Assert(t, qt.ErrorMatches(err, `perCPUBuffer \d+ is too large`))
}
