package perf

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
)

// Record is a sample, or a count of samples lost, from one CPU's ring.
type Record struct {
	// CPU is the CPU whose ring held the record: the CPU the BPF program
	// ran on for BPF_F_CURRENT_CPU, or the index it chose.
	CPU int

	// RawSample is the data passed to bpf_perf_event_output. The kernel
	// pads the raw record so that it ends 8-byte aligned and reports the
	// padded length, so RawSample may end with up to 7 bytes that the
	// program did not write. Empty for a record of lost samples.
	RawSample []byte

	// LostSamples is the number of samples the kernel dropped because
	// this CPU's ring was full; non-zero only in a record without
	// RawSample.
	LostSamples uint64

	// Remaining is the number of bytes that were still waiting in this
	// CPU's ring after the record, when it was read; a lower bound of what
	// is left. It is -1 for overwritable rings, where it can't be known.
	Remaining int
}

// The records of struct perf_event_header (include/uapi/linux/perf_event.h)
// that a PERF_COUNT_SW_BPF_OUTPUT event with PERF_SAMPLE_RAW writes:
//
//	PERF_RECORD_SAMPLE: header, u32 size, size bytes of raw data
//	PERF_RECORD_LOST:   header, u64 id, u64 lost
//
// The header is u32 type, u16 misc, u16 size (of the whole record).
const (
	eventHeaderSize = 8
	lostBodySize    = 16
	sampleSizeSize  = 4
)

// errEOR says that a ring has no (more) complete record; the Reader moves
// on to the next ring. It never reaches users.
var errEOR = errors.New("end of ring")

type unknownEventError struct {
	eventType uint32
}

func (uev *unknownEventError) Error() string {
	return fmt.Sprintf("perf event ring: record of unknown type %d", uev.eventType)
}

// IsUnknownEvent reports whether err comes from a record of a type other
// than a sample or a count of lost samples. Reading can go on after such
// an error: the record has been skipped.
func IsUnknownEvent(err error) bool {
	var uee *unknownEventError
	return errors.As(err, &uee)
}

// readRecord decodes the next record of rd into rec and consumes it.
// scratch must hold at least 16 bytes; it lives in the Reader so that
// nothing is allocated. Records that don't wrap around the end of the ring
// are decoded in place. It returns errEOR when rd is empty, and an error
// wrapping io.ErrUnexpectedEOF for a record that claims more bytes than
// the ring holds; a record whose own length is wrong takes what is left of
// the ring with it, since the next one can't be found.
func readRecord(rd *ringReader, rec *Record, scratch []byte) error {
	left := rd.left()
	if left == 0 {
		return errEOR
	}
	// Without a valid header the records that follow can't be found:
	// drop what is left, so that the next read starts afresh.
	if left < eventHeaderSize {
		rd.skip(left)
		return fmt.Errorf("perf event ring: %d bytes left, too few for a record header: %w", left, io.ErrUnexpectedEOF)
	}
	hdr := rd.view(0, eventHeaderSize, scratch)
	typ := internal.NativeEndian.Uint32(hdr[0:4])
	size := uint64(internal.NativeEndian.Uint16(hdr[6:8]))
	if size < eventHeaderSize || size > left {
		rd.skip(left)
		return fmt.Errorf("perf event ring: record of %d bytes, %d bytes left in the ring: %w", size, left, io.ErrUnexpectedEOF)
	}

	switch typ {
	case unix.PERF_RECORD_SAMPLE:
		if size < eventHeaderSize+sampleSizeSize {
			rd.skip(size)
			return fmt.Errorf("perf event ring: sample record of %d bytes: %w", size, io.ErrUnexpectedEOF)
		}
		n := uint64(internal.NativeEndian.Uint32(rd.view(eventHeaderSize, sampleSizeSize, scratch)))
		if n > size-eventHeaderSize-sampleSizeSize {
			rd.skip(size)
			return fmt.Errorf("perf event ring: sample of %d bytes in a record of %d: %w", n, size, io.ErrUnexpectedEOF)
		}
		if uint64(cap(rec.RawSample)) < n {
			rec.RawSample = make([]byte, n)
		}
		rec.RawSample = rec.RawSample[:n]
		rd.copyOut(rec.RawSample, eventHeaderSize+sampleSizeSize)
		rec.LostSamples = 0

	case unix.PERF_RECORD_LOST:
		if size < eventHeaderSize+lostBodySize {
			rd.skip(size)
			return fmt.Errorf("perf event ring: lost record of %d bytes: %w", size, io.ErrUnexpectedEOF)
		}
		body := rd.view(eventHeaderSize, lostBodySize, scratch)
		rec.RawSample = rec.RawSample[:0]
		rec.LostSamples = internal.NativeEndian.Uint64(body[8:16])

	default:
		rd.skip(size)
		return &unknownEventError{typ}
	}
	rd.skip(size)
	return nil
}
