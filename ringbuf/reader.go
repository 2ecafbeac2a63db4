package ringbuf

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/epoll"
)

var (
	// ErrClosed is returned (wrapped) by Read and ReadInto once Close has
	// been called, including to a Read that Close interrupted. It is
	// os.ErrClosed.
	ErrClosed = os.ErrClosed

	// ErrFlushed is returned by Read and ReadInto after Flush, once the
	// records that were in the ring at that moment have been returned.
	ErrFlushed = epoll.ErrFlushed
)

var errReaderClosed = fmt.Errorf("ringbuf reader: %w", ErrClosed)

// Record is one sample read from the ring buffer.
type Record struct {
	// RawSample is the data the BPF program submitted, exactly as long as
	// the program said (without the kernel's alignment padding).
	RawSample []byte

	// Remaining is the number of bytes that were still waiting in the
	// ring after this record, at the moment it was read: a lower bound
	// of what the next reads will find.
	Remaining int
}

// Reader reads records from a BPF_MAP_TYPE_RINGBUF map. Read and ReadInto
// may be called from several goroutines (they take turns); Close, Flush,
// SetDeadline, AvailableBytes and BufferSize may be called at any time,
// also while a Read blocks.
type Reader struct {
	// waiter blocks, holds the deadline, and keeps a deadline or flush
	// back until the ring is empty.
	waiter *epoll.Waiter

	// mu serializes readers and guards what they use (the waiter's Wait
	// included).
	mu     sync.Mutex
	ring   *ringReader // nil after Close; also guarded by mapMu
	events [1]unix.EpollEvent

	// mapMu keeps the mapping alive under AvailableBytes, which does not
	// take mu so that it never waits for a blocked Read.
	mapMu sync.RWMutex

	bufferSize int
}

// NewReader maps the ring buffer m into the process and returns a Reader
// for its records. m must be of type ebpf.RingBuf (Linux 5.8); its size
// (MaxEntries) must be a power of two and a multiple of the page size, as
// the kernel already demands when creating it.
//
// The Reader keeps the ring mapped, and therefore alive, until Close, even
// if m is closed first. Cost: an epoll instance and two eventfds, two
// mmap(2) calls, a few small allocations.
func NewReader(ringbufMap *ebpf.Map) (*Reader, error) {
	if ringbufMap == nil {
		return nil, errors.New("ringbuf: nil map")
	}
	if typ := ringbufMap.Type(); typ != ebpf.RingBuf {
		return nil, fmt.Errorf("ringbuf: map %v is of type %s, need %s", ringbufMap, typ, ebpf.RingBuf)
	}
	size := ringbufMap.MaxEntries()
	if size == 0 || size&(size-1) != 0 || size%uint32(os.Getpagesize()) != 0 {
		return nil, fmt.Errorf("ringbuf: map %v: size %d is not a power of two multiple of the page size", ringbufMap, size)
	}

	waiter, err := epoll.NewWaiter("ringbuf", errReaderClosed)
	if err != nil {
		return nil, fmt.Errorf("ringbuf: %w", err)
	}
	if err := waiter.Add(ringbufMap.FD(), 0); err != nil {
		waiter.Close()
		return nil, fmt.Errorf("ringbuf: map %v: %w", ringbufMap, err)
	}
	ring, err := newRingReader(ringbufMap.FD(), size)
	if err != nil {
		waiter.Close()
		return nil, fmt.Errorf("ringbuf: map %v: %w", ringbufMap, err)
	}
	return &Reader{
		waiter:     waiter,
		ring:       ring,
		bufferSize: int(size),
	}, nil
}

// Close releases the Reader's mappings and descriptors. A Read or ReadInto
// blocked in another goroutine returns an error wrapping ErrClosed; later
// calls do too. Closing twice is not an error.
func (r *Reader) Close() error {
	// Closing the waiter wakes a blocked Read and waits for it to leave
	// epoll_wait; it then releases mu. A Read spinning on a reserved
	// record sees Closing and gives up.
	err := r.waiter.Close()

	r.mu.Lock()
	defer r.mu.Unlock()
	r.mapMu.Lock()
	defer r.mapMu.Unlock()
	if r.ring != nil {
		err = errors.Join(err, r.ring.close())
		r.ring = nil
	}
	if err != nil {
		return fmt.Errorf("ringbuf: close: %w", err)
	}
	return nil
}

// SetDeadline limits how long later Read and ReadInto calls block: once t
// has passed they return the records already in the ring and then an
// error wrapping os.ErrDeadlineExceeded. A t in the past makes them return
// at once when the ring is empty; the zero time.Time removes the deadline.
// A Read already blocked keeps the deadline it started with.
func (r *Reader) SetDeadline(t time.Time) {
	r.waiter.SetDeadline(t)
}

// Read returns the next record, blocking until there is one. It allocates
// the record's sample; ReadInto can reuse one.
//
// Close makes it return an error wrapping ErrClosed. Flush makes it return
// the records that were in the ring at that moment and then ErrFlushed. A
// deadline (SetDeadline) that passes makes it return the records in the
// ring and then an error wrapping os.ErrDeadlineExceeded; records the
// program submitted with BPF_RB_NO_WAKEUP are found this way too.
func (r *Reader) Read() (Record, error) {
	var rec Record
	err := r.ReadInto(&rec)
	return rec, err
}

// ReadInto is Read into a caller's Record: rec.RawSample is reused when it
// has the capacity for the sample, so a loop that reads into the same
// Record allocates nothing once the buffer has grown to the largest
// sample. While records are waiting, it makes no system call.
//
// On error, rec is left as it was.
func (r *Reader) ReadInto(rec *Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ring == nil {
		return errReaderClosed
	}

	spins := 0
	for {
		err := r.ring.readRecord(rec)
		switch err {
		case nil:
			return nil
		case errBusy:
			// A BPF program is between bpf_ringbuf_reserve and its
			// submit or discard, which the verifier guarantees will
			// come. Waiting in epoll would not help: the ring reads as
			// ready as long as the reservation is published.
			if r.waiter.Closing() {
				return errReaderClosed
			}
			if spins++; spins > 100 {
				runtime.Gosched()
			}
			continue
		case errEmpty:
		default:
			return err
		}

		// After a deadline or flush, the next turn reads what the ring
		// holds now; the Wait after that returns the error.
		if _, _, err := r.waiter.Wait(r.events[:]); err != nil {
			return err
		}
	}
}

// BufferSize returns the size of the ring buffer's data area in bytes: the
// map's MaxEntries.
func (r *Reader) BufferSize() int {
	return r.bufferSize
}

// Flush makes a blocked Read, or the next one, return the records that are
// in the ring now and then ErrFlushed. Several Flushes before a Read count
// as one. Cost: one write(2) to an eventfd.
func (r *Reader) Flush() error {
	return r.waiter.Flush()
}

// AvailableBytes returns how many bytes are waiting in the ring buffer:
// the distance between the kernel's producer position and the Reader's
// consumer position, including record headers, padding and records that
// are still reserved or were discarded. It never blocks, makes no system
// call, and returns 0 after Close.
func (r *Reader) AvailableBytes() int {
	r.mapMu.RLock()
	defer r.mapMu.RUnlock()
	if r.ring == nil {
		return 0
	}
	return int(r.ring.AvailableBytes())
}
