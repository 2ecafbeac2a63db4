package perf

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/epoll"
	"github.com/bpfkit/ebpf/internal/linux"
)

var (
	// ErrClosed is returned (wrapped) by Read, ReadInto, Pause and Resume
	// once Close has been called, including to a Read that Close
	// interrupted. It is os.ErrClosed.
	ErrClosed = os.ErrClosed

	// ErrFlushed is returned by Read and ReadInto after Flush, once the
	// records that were in the rings at that moment have been returned.
	ErrFlushed = epoll.ErrFlushed
)

var (
	errReaderClosed = fmt.Errorf("perf reader: %w", ErrClosed)
	errMustBePaused = errors.New("perf reader: an overwritable reader must be paused before reading")
)

// ReaderOptions control when a Reader is woken and how its rings behave.
type ReaderOptions struct {
	// WakeupEvents wakes a blocked Read once a CPU's ring holds this many
	// new records. Zero means Watermark decides; setting both is an error.
	WakeupEvents int
	// Watermark wakes a blocked Read once this many bytes have been
	// written to a CPU's ring since the last wake-up; rings that did not
	// reach it are read only once a deadline passes or after Flush. It
	// must be smaller than the per-CPU buffer. Zero means every record
	// wakes the reader.
	Watermark int
	// Overwritable makes the rings keep the newest records: once a ring
	// is full the kernel overwrites the oldest ones instead of dropping
	// new ones (Linux 4.7). Such a reader must be paused (Pause) before
	// it is read, and returns the newest records first.
	Overwritable bool
}

// Reader reads the records of a perf event array, one ring per CPU. Read
// and ReadInto may be called from several goroutines (they take turns);
// Close, Flush, Pause, Resume, SetDeadline and BufferSize may be called at
// any time, also while a Read blocks.
type Reader struct {
	// waiter blocks, holds the deadline, and keeps a deadline or flush
	// back until the rings are empty.
	waiter *epoll.Waiter

	// mu serializes readers and guards what they use (the waiter's Wait
	// included). When both are taken, mu comes before pauseMu.
	mu      sync.Mutex
	rings   []*perfEventRing // nil after Close
	ready   []*perfEventRing // rings to drain, a stack
	events  []unix.EpollEvent
	scratch [16]byte

	overwritable bool
	bufferSize   int

	// pauseMu guards the array and its entries, so that Pause and
	// Resume work while a Read blocks.
	pauseMu sync.Mutex
	array   *ebpf.Map // our own descriptor; nil after Close
	paused  atomic.Bool
}

// NewReader is NewReaderWithOptions with the default options.
func NewReader(array *ebpf.Map, perCPUBuffer int) (*Reader, error) {
	return NewReaderWithOptions(array, perCPUBuffer, ReaderOptions{})
}

// NewReaderWithOptions opens a ring of perCPUBuffer bytes (rounded up to a
// power of two number of pages) for each possible CPU that is online, and
// stores the ring's event in array, a perf event array (Linux 4.3), at the
// CPU's index. BPF programs then reach the ring of the CPU they run on
// with bpf_perf_event_output(ctx, &array, BPF_F_CURRENT_CPU, ...). CPUs
// beyond array's MaxEntries get no ring.
//
// The Reader holds its own descriptor of array, so the entries stay after
// the caller closes array, until the Reader is closed. Cost per CPU:
// perf_event_open(2), mmap(2) of perCPUBuffer plus a page of locked
// memory, one map update; an epoll instance for all.
func NewReaderWithOptions(array *ebpf.Map, perCPUBuffer int, opts ReaderOptions) (pr *Reader, err error) {
	if array == nil {
		return nil, errors.New("perf reader: nil map")
	}
	if typ := array.Type(); typ != ebpf.PerfEventArray {
		return nil, fmt.Errorf("perf reader: map %v is of type %s, need %s", array, typ, ebpf.PerfEventArray)
	}
	if perCPUBuffer < 1 {
		return nil, fmt.Errorf("perf reader: perCPUBuffer must be positive, not %d", perCPUBuffer)
	}
	if opts.WakeupEvents < 0 || opts.Watermark < 0 {
		return nil, fmt.Errorf("perf reader: negative WakeupEvents (%d) or Watermark (%d)", opts.WakeupEvents, opts.Watermark)
	}
	if opts.WakeupEvents > 0 && opts.Watermark > 0 {
		return nil, errors.New("perf reader: WakeupEvents and Watermark are mutually exclusive")
	}
	if opts.Watermark >= perCPUBuffer {
		return nil, fmt.Errorf("perf reader: Watermark %d must be smaller than perCPUBuffer %d", opts.Watermark, perCPUBuffer)
	}
	possible, err := linux.PossibleCPUs()
	if err != nil {
		return nil, fmt.Errorf("perf reader: %w", err)
	}
	nCPU := min(int(array.MaxEntries()), possible)

	// r is built here and released on error; pr is only set on success.
	r := &Reader{overwritable: opts.Overwritable}
	if r.waiter, err = epoll.NewWaiter("perf reader", errReaderClosed); err != nil {
		return nil, fmt.Errorf("perf reader: %w", err)
	}
	defer func() {
		if err != nil {
			r.release()
		}
	}()

	// bpf_perf_event_output finds the event by CPU number and only
	// accepts one bound to that CPU, so each CPU needs its own ring.
	for cpu := range nCPU {
		ring, err := newPerfEventRing(cpu, perCPUBuffer, opts)
		if errors.Is(err, unix.ENODEV) {
			// The CPU is offline. Its samples can't be read until a new
			// Reader is made after it comes online.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("perf reader: %w", err)
		}
		r.rings = append(r.rings, ring)
		r.bufferSize = len(ring.mmap) - os.Getpagesize()
		if err := r.waiter.Add(ring.fd.Int(), len(r.rings)-1); err != nil {
			return nil, fmt.Errorf("perf reader: CPU %d: %w", cpu, err)
		}
	}
	if len(r.rings) == 0 {
		return nil, fmt.Errorf("perf reader: no online CPU among the first %d", nCPU)
	}
	r.events = make([]unix.EpollEvent, len(r.rings))
	r.ready = make([]*perfEventRing, 0, len(r.rings))

	// Closing the last descriptor of a perf event array empties it: keep
	// our own.
	if r.array, err = array.Clone(); err != nil {
		return nil, fmt.Errorf("perf reader: %w", err)
	}
	if err = r.Resume(); err != nil {
		return nil, err
	}
	return r, nil
}

// release frees everything. The caller holds mu and pauseMu, or is
// NewReader, which owns the Reader alone.
func (pr *Reader) release() error {
	var errs []error
	if pr.array != nil {
		// Remove our events so that programs get ENOENT rather than
		// writing into rings nobody reads.
		for _, ring := range pr.rings {
			if err := pr.array.Delete(uint32(ring.cpu)); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				errs = append(errs, fmt.Errorf("remove event of CPU %d: %w", ring.cpu, err))
			}
		}
		errs = append(errs, pr.array.Close())
		pr.array = nil
	}
	for _, ring := range pr.rings {
		errs = append(errs, ring.Close())
	}
	pr.rings, pr.ready = nil, nil
	errs = append(errs, pr.waiter.Close())
	return errors.Join(errs...)
}

// Close removes the Reader's events from the array, so that
// bpf_perf_event_output returns ENOENT from then on, and releases the
// rings, events and descriptors. A Read or ReadInto blocked in another
// goroutine returns an error wrapping ErrClosed; later calls do too.
// Closing twice is not an error.
func (pr *Reader) Close() error {
	// Wake a blocked Read and wait for it to leave epoll_wait.
	err := pr.waiter.Close()

	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.pauseMu.Lock()
	defer pr.pauseMu.Unlock()
	if pr.rings != nil {
		err = errors.Join(err, pr.release())
	}
	if err != nil {
		return fmt.Errorf("perf reader: close: %w", err)
	}
	return nil
}

// SetDeadline limits how long later Read and ReadInto calls block: once t
// has passed they return the records in the rings (those below the
// Watermark included) and then an error wrapping os.ErrDeadlineExceeded.
// A t in the past makes them return at once when the rings are empty; the
// zero time.Time removes the deadline. A Read already blocked keeps the
// deadline it started with.
func (pr *Reader) SetDeadline(t time.Time) {
	pr.waiter.SetDeadline(t)
}

// Read returns the next record, blocking until a ring reaches its
// wake-up condition (see ReaderOptions). It allocates the record's sample;
// ReadInto can reuse one.
//
// Close makes it return an error wrapping ErrClosed. Flush makes it return
// the records that were in the rings at that moment and then ErrFlushed. A
// deadline (SetDeadline) that passes makes it return the records in the
// rings and then an error wrapping os.ErrDeadlineExceeded. A record of an
// unknown type gives an error for which IsUnknownEvent is true; reading
// can continue.
func (pr *Reader) Read() (Record, error) {
	var rec Record
	err := pr.ReadInto(&rec)
	return rec, err
}

// ReadInto is Read into a caller's Record: rec.RawSample is reused when it
// has the capacity for the sample, so a loop that reads into the same
// Record allocates nothing once the buffer has grown to the largest
// sample. While records are waiting, it makes no system call.
func (pr *Reader) ReadInto(rec *Record) error {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.rings == nil {
		return errReaderClosed
	}
	if pr.overwritable {
		// The kernel must not write to an overwritable ring while we
		// read it: keep Resume out, except while we wait.
		pr.pauseMu.Lock()
		defer pr.pauseMu.Unlock()
		if !pr.paused.Load() {
			return errMustBePaused
		}
	}

	for {
		for len(pr.ready) > 0 {
			ring := pr.ready[len(pr.ready)-1]
			err := ring.readRecord(rec, pr.scratch[:])
			if err == errEOR {
				pr.ready = pr.ready[:len(pr.ready)-1]
				continue
			}
			return err
		}

		if pr.overwritable {
			pr.pauseMu.Unlock()
		}
		n, all, err := pr.waiter.Wait(pr.events)
		if pr.overwritable {
			pr.pauseMu.Lock()
		}
		if err != nil {
			return err
		}
		if all {
			// A deadline or flush: return everything that is in the
			// rings now, then its error.
			for _, ring := range pr.rings {
				pr.pushReady(ring)
			}
		} else {
			// A wake-up means the ring reached its watermark: drain
			// it. The kernel reports each wake-up once, so a ring is
			// always emptied before the next Wait.
			for _, ev := range pr.events[:n] {
				pr.pushReady(pr.rings[epoll.EventID(ev)])
			}
		}
		// Resume may have been called while we waited.
		if pr.overwritable && !pr.paused.Load() {
			pr.ready = pr.ready[:0]
			return errMustBePaused
		}
	}
}

func (pr *Reader) pushReady(ring *perfEventRing) {
	ring.reader.loadHead()
	pr.ready = append(pr.ready, ring)
}

// Pause removes the Reader's events from the array: until Resume,
// bpf_perf_event_output returns ENOENT and nothing is written to the
// rings; Read returns what they hold and then blocks. Cost: one map
// delete per CPU.
func (pr *Reader) Pause() error {
	pr.pauseMu.Lock()
	defer pr.pauseMu.Unlock()
	if pr.array == nil {
		return errReaderClosed
	}
	for _, ring := range pr.rings {
		if err := pr.array.Delete(uint32(ring.cpu)); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("perf reader: pause: remove event of CPU %d: %w", ring.cpu, err)
		}
	}
	pr.paused.Store(true)
	return nil
}

// Resume stores the Reader's events in the array again, after Pause.
// Cost: one map update per CPU.
func (pr *Reader) Resume() error {
	pr.pauseMu.Lock()
	defer pr.pauseMu.Unlock()
	if pr.array == nil {
		return errReaderClosed
	}
	for _, ring := range pr.rings {
		if err := pr.array.Put(uint32(ring.cpu), ring.fd.Uint()); err != nil {
			return fmt.Errorf("perf reader: store event of CPU %d: %w", ring.cpu, err)
		}
	}
	pr.paused.Store(false)
	return nil
}

// BufferSize returns the size in bytes of each CPU's ring: perCPUBuffer
// rounded up to a power of two number of pages.
func (pr *Reader) BufferSize() int {
	return pr.bufferSize
}

// Flush makes a blocked Read, or the next one, return the records that are
// in the rings now (those below the Watermark included) and then
// ErrFlushed. Several Flushes before a Read count as one. Cost: one
// write(2) to an eventfd.
func (pr *Reader) Flush() error {
	return pr.waiter.Flush()
}
