package perf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
)

// The system calls that set up a ring, variables so that tests can make
// them fail and check that every error path releases what it took.
var (
	perfEventOpen = unix.PerfEventOpen
	mmap          = unix.Mmap
	munmap        = unix.Munmap
)

// perfEventRing is one CPU's PERF_COUNT_SW_BPF_OUTPUT event and its
// mapping: a metadata page (struct perf_event_mmap_page) followed by a
// power of two number of data pages.
type perfEventRing struct {
	cpu     int
	fd      *sys.FD
	mmap    []byte
	reader  *ringReader
	cleanup runtime.Cleanup
}

// newPerfEventRing opens the event for cpu and maps its ring of
// perCPUBuffer bytes (rounded up to a power of two number of pages).
// Costs perf_event_open(2) and mmap(2); on error, nothing stays open.
func newPerfEventRing(cpu, perCPUBuffer int, opts ReaderOptions) (_ *perfEventRing, err error) {
	mmapSize, err := perfBufferSize(perCPUBuffer)
	if err != nil {
		return nil, err
	}
	fd, err := createPerfEvent(cpu, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			fd.Close()
		}
	}()

	// An overwritable ring must be mapped read-only: that is what tells
	// the kernel to overwrite old records instead of waiting for
	// data_tail to move.
	prot := unix.PROT_READ
	if !opts.Overwritable {
		prot |= unix.PROT_WRITE
	}
	m, err := mmap(fd.Int(), 0, mmapSize, prot, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap perf ring of CPU %d: %w", cpu, err)
	}

	page := os.Getpagesize()
	meta := (*unix.PerfEventMmapPage)(unsafe.Pointer(&m[0]))
	// Linux 4.1 and later say where the data is; older kernels leave
	// these zero and put it right after the metadata page.
	off, size := uint64(page), uint64(mmapSize-page)
	if meta.Data_offset != 0 || meta.Data_size != 0 {
		off, size = meta.Data_offset, meta.Data_size
	}
	if off > uint64(len(m)) || size > uint64(len(m))-off || size == 0 || size&(size-1) != 0 {
		_ = munmap(m)
		return nil, fmt.Errorf("perf ring of CPU %d: kernel reports data at %d+%d in a mapping of %d bytes", cpu, off, size, len(m))
	}
	data := m[off : off+size]

	ring := &perfEventRing{cpu: cpu, fd: fd, mmap: m, reader: newRingReader(meta, data, opts.Overwritable)}
	ring.cleanup = runtime.AddCleanup(ring, func(m []byte) { _ = munmap(m) }, m)
	return ring, nil
}

// perfBufferSize is the length to map for a ring of at least perCPUBuffer
// bytes: the metadata page plus a power of two number of data pages, which
// the kernel demands.
func perfBufferSize(perCPUBuffer int) (int, error) {
	page := os.Getpagesize()
	pages := (uint64(perCPUBuffer) + uint64(page) - 1) / uint64(page)
	if pages > 1 {
		pages = 1 << bits.Len64(pages-1)
	}
	if pages > (math.MaxInt/uint64(page))-1 {
		return 0, fmt.Errorf("perCPUBuffer %d is too large", perCPUBuffer)
	}
	return int((pages + 1) * uint64(page)), nil
}

func createPerfEvent(cpu int, opts ReaderOptions) (*sys.FD, error) {
	attr := unix.PerfEventAttr{
		Type:        unix.PERF_TYPE_SOFTWARE,
		Config:      unix.PERF_COUNT_SW_BPF_OUTPUT,
		Sample_type: unix.PERF_SAMPLE_RAW,
	}
	attr.Size = uint32(unsafe.Sizeof(attr))
	if opts.WakeupEvents > 0 {
		// Wake the reader after this many records.
		attr.Wakeup = uint32(opts.WakeupEvents)
	} else {
		// Wake the reader after this many bytes; at least one, so that
		// every record wakes it by default.
		attr.Bits |= unix.PerfBitWatermark
		attr.Wakeup = uint32(max(opts.Watermark, 1))
	}
	if opts.Overwritable {
		attr.Bits |= unix.PerfBitWriteBackward
	}

	raw, err := perfEventOpen(&attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("perf_event_open BPF output event on CPU %d: %w", cpu, err)
	}
	fd, err := sys.NewFD(raw)
	if err != nil {
		return nil, fmt.Errorf("perf event of CPU %d: %w", cpu, err)
	}
	return fd, nil
}

// Close unmaps the ring and closes its event. The event stays alive in
// the kernel as long as a perf event array holds it.
func (ring *perfEventRing) Close() error {
	ring.cleanup.Stop()
	var err error
	if ring.mmap != nil {
		err = munmap(ring.mmap)
		ring.mmap, ring.reader = nil, nil
	}
	return errors.Join(err, ring.fd.Close())
}

// readRecord reads the next record of the ring into rec. NB: loadHead must
// have been called since the ring was last found empty.
func (ring *perfEventRing) readRecord(rec *Record, scratch []byte) error {
	err := readRecord(ring.reader, rec, scratch)
	if ring.reader.overwritable && err != nil && errors.Is(err, io.ErrUnexpectedEOF) {
		// The oldest record of a full overwritable ring is partly
		// overwritten by the newest one: it marks the end.
		err = errEOR
	}
	if err == errEOR {
		return err
	}
	ring.reader.commit()
	if err == nil {
		rec.CPU = ring.cpu
		rec.Remaining = ring.reader.remaining()
	}
	return err
}

// ringReader reads the records of one ring's data area: a power of two
// number of bytes in which position p lives at p&mask. Records may wrap
// around the end. Positions count bytes since the ring was created.
//
// A normal ring is written forward: the kernel appends at data_head and
// waits for data_tail, which the reader advances. An overwritable ring is
// written backward (data_head decreases) without waiting for the reader:
// the newest record starts at data_head and the older ones follow it. For
// it, each loadHead makes a window from the new head to where the previous
// window started, at most the ring's size; records a window did not return
// are dropped by the next one.
type ringReader struct {
	meta *unix.PerfEventMmapPage
	data []byte
	mask uint64

	pos uint64 // the next unread byte
	end uint64 // the end of what may be read
	// head is data_head when the current window of an overwritable ring
	// was made.
	head         uint64
	overwritable bool
}

func newRingReader(meta *unix.PerfEventMmapPage, data []byte, overwritable bool) *ringReader {
	rr := &ringReader{meta: meta, data: data, mask: uint64(len(data) - 1), overwritable: overwritable}
	if overwritable {
		// The kernel starts at position 0 and writes below it.
		rr.head = atomic.LoadUint64(&meta.Data_head)
		rr.pos, rr.end = rr.head, rr.head
	} else {
		rr.pos = atomic.LoadUint64(&meta.Data_tail)
		rr.end = atomic.LoadUint64(&meta.Data_head)
	}
	return rr
}

// loadHead learns how far the kernel has written. Load-acquire: the
// records before the head are visible after it.
func (rr *ringReader) loadHead() {
	head := atomic.LoadUint64(&rr.meta.Data_head)
	if !rr.overwritable {
		rr.end = head
		return
	}
	rr.pos, rr.end, rr.head = head, rr.head, head
	if size := uint64(len(rr.data)); rr.end-rr.pos > size {
		// The kernel went round the ring since the last window: only
		// the newest size bytes are still there.
		rr.end = rr.pos + size
	}
}

// commit hands what was read back to the kernel. Store-release: the
// kernel may overwrite it once it sees the tail move, and our copies are
// done before this store. The kernel ignores the tail of an overwritable
// ring (which is mapped read-only).
func (rr *ringReader) commit() {
	if !rr.overwritable {
		atomic.StoreUint64(&rr.meta.Data_tail, rr.pos)
	}
}

// remaining is what is left to read; unknown (-1) for an overwritable
// ring, where the kernel may have overwritten it.
func (rr *ringReader) remaining() int {
	if rr.overwritable {
		return -1
	}
	return int(rr.end - rr.pos)
}

// left is the number of unread bytes.
func (rr *ringReader) left() uint64 { return rr.end - rr.pos }

// skip consumes n unread bytes; n <= left().
func (rr *ringReader) skip(n uint64) { rr.pos += n }

// view returns the n unread bytes at offset off without consuming them:
// the ring's own memory if they don't wrap, else a copy in scratch.
// off+n <= left().
func (rr *ringReader) view(off, n uint64, scratch []byte) []byte {
	start := (rr.pos + off) & rr.mask
	if start+n <= uint64(len(rr.data)) {
		return rr.data[start : start+n : start+n]
	}
	rr.copyOut(scratch[:n], off)
	return scratch[:n]
}

// copyOut fills p with the unread bytes at offset off, wrapping around the
// end of the ring. off+len(p) <= left().
func (rr *ringReader) copyOut(p []byte, off uint64) {
	start := (rr.pos + off) & rr.mask
	n := copy(p, rr.data[start:])
	copy(p[n:], rr.data)
}
