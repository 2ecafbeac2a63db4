package ringbuf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The record header of struct bpf_ringbuf_hdr: a 32-bit length whose top
// two bits say that the producer still owns the record (busy) or threw it
// away (discard), and 32 bits the kernel uses for itself. Records start at
// 8-byte boundaries. The values are those of the anonymous enum in
// include/uapi/linux/bpf.h (BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT,
// BPF_RINGBUF_HDR_SZ); internal/sys does not generate them yet, so a test
// compares them with internal/cmd/uapi/bpf-uapi.h.
const (
	busyBit     = 1 << 31
	discardBit  = 1 << 30
	headerSize  = 8
	recordAlign = 8
)

// Outcomes of readRecord that the Reader handles itself. They are never
// returned to users.
var (
	errEmpty = errors.New("ring buffer empty")
	errBusy  = errors.New("next record not committed yet")
)

// The system calls that map the ring, variables so that tests can make
// them fail and check that nothing stays mapped.
var (
	mmap   = unix.Mmap
	munmap = unix.Munmap
)

// ringReader consumes records from the shared memory of one ring buffer
// map. Only one goroutine may call readRecord at a time; AvailableBytes
// may run concurrently with it.
type ringReader struct {
	// cons and prod point into the mappings: the consumer position, which
	// only we write, and the producer position, which only the kernel
	// writes. Both count bytes since the ring was created and wrap only
	// at the end of the address space.
	cons, prod *uintptr
	// data is the data area mapped twice in a row (2*size bytes), so
	// that a record starting near the end continues in the second copy
	// instead of wrapping.
	data []byte
	size uintptr // power of two
	mask uintptr // size-1
	// pos is the consumer position as we last stored it: reading our own
	// store back from shared memory would be a wasted atomic load.
	pos uintptr

	// The two mappings, unmapped by close or, for a forgotten Reader, by
	// the cleanup.
	consPage, dataPages []byte
	cleanup             runtime.Cleanup
}

// newRingReader maps the ring buffer map fd whose data area is size bytes
// (a power of two and a multiple of the page size, which the kernel
// demands of BPF_MAP_TYPE_RINGBUF). Costs two mmap(2) calls.
func newRingReader(fd int, size uint32) (*ringReader, error) {
	page := os.Getpagesize()
	// The producer mapping is a page plus the data area twice; make sure
	// that length fits in an int (it may not on 32-bit platforms).
	if uint64(size) > (math.MaxInt-uint64(page))/2 {
		return nil, fmt.Errorf("ring buffer of %d bytes is too large to map in this address space", size)
	}

	// The consumer page is the only part user space may write.
	consPage, err := mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap consumer page: %w", err)
	}
	// The kernel maps the data pages twice after the producer page, so
	// one read-only mapping of page+2*size bytes sees every record whole.
	dataPages, err := mmap(fd, int64(page), page+2*int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		_ = munmap(consPage)
		return nil, fmt.Errorf("mmap producer page and data: %w", err)
	}

	rr := &ringReader{
		cons:      (*uintptr)(unsafe.Pointer(&consPage[0])),
		prod:      (*uintptr)(unsafe.Pointer(&dataPages[0])),
		data:      dataPages[page:],
		size:      uintptr(size),
		mask:      uintptr(size) - 1,
		consPage:  consPage,
		dataPages: dataPages,
	}
	rr.pos = atomic.LoadUintptr(rr.cons)
	rr.cleanup = runtime.AddCleanup(rr, unmapBoth, [2][]byte{consPage, dataPages})
	return rr, nil
}

func unmapBoth(m [2][]byte) {
	_ = munmap(m[0])
	_ = munmap(m[1])
}

// close unmaps the ring. It must not run concurrently with any other
// method.
func (rr *ringReader) close() error {
	rr.cleanup.Stop()
	var err error
	for _, m := range [][]byte{rr.dataPages, rr.consPage} {
		if m != nil {
			err = errors.Join(err, munmap(m))
		}
	}
	rr.cons, rr.prod, rr.data, rr.consPage, rr.dataPages = nil, nil, nil, nil, nil
	if err != nil {
		return fmt.Errorf("munmap ring buffer: %w", err)
	}
	return nil
}

// drop consumes everything up to the producer position prod.
func (rr *ringReader) drop(prod uintptr) {
	rr.pos = prod
	atomic.StoreUintptr(rr.cons, rr.pos)
}

// AvailableBytes returns how many bytes the producer has published that we
// have not consumed yet, headers, padding and discarded records included.
// Two atomic loads.
func (rr *ringReader) AvailableBytes() uint64 {
	prod := atomic.LoadUintptr(rr.prod)
	cons := atomic.LoadUintptr(rr.cons)
	return uint64(prod - cons)
}

// readRecord copies the next committed record into rec, skipping discarded
// ones, and hands its space back to the kernel. It returns errEmpty when
// the consumer has caught up with the producer and errBusy when the next
// record is reserved but neither submitted nor discarded yet. A header
// that can't be right (the kernel never writes one) is an error wrapping
// io.ErrUnexpectedEOF, and everything published up to then is dropped:
// the records after it can't be found. It does not allocate if
// rec.RawSample has room for the sample.
func (rr *ringReader) readRecord(rec *Record) error {
	for {
		// Load-acquire: the headers the kernel wrote before it advanced
		// the producer position are visible after this load.
		prod := atomic.LoadUintptr(rr.prod)
		avail := prod - rr.pos
		if avail == 0 {
			return errEmpty
		}
		if avail < headerSize {
			rr.drop(prod)
			return fmt.Errorf("ring buffer: %d bytes before the producer position, too few for a record header: %w", avail, io.ErrUnexpectedEOF)
		}

		off := rr.pos & rr.mask
		// Load-acquire of the length, which the kernel stores with
		// release semantics when the record is submitted or discarded:
		// once the busy bit reads clear, the sample is visible too.
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&rr.data[off])))
		if hdr&busyBit != 0 {
			return errBusy
		}
		n := uintptr(hdr &^ (busyBit | discardBit))
		total := (headerSize + n + recordAlign - 1) &^ (recordAlign - 1)
		if total > rr.size || total > avail {
			at := rr.pos
			rr.drop(prod)
			return fmt.Errorf("ring buffer: record of %d bytes at position %d exceeds the %d bytes published: %w", n, at, avail, io.ErrUnexpectedEOF)
		}

		if hdr&discardBit == 0 {
			sample := rr.data[off+headerSize : off+headerSize+n]
			if uintptr(cap(rec.RawSample)) < n {
				rec.RawSample = make([]byte, n)
			}
			rec.RawSample = rec.RawSample[:n]
			copy(rec.RawSample, sample)
		}

		// Store-release: the kernel may reuse the space once it sees the
		// new consumer position, and our copy is complete before it.
		rr.pos += total
		atomic.StoreUintptr(rr.cons, rr.pos)
		if hdr&discardBit == 0 {
			rec.Remaining = int(prod - rr.pos)
			return nil
		}
	}
}
