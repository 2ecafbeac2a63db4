package perf

import (
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzReadRecord feeds the record decoder ring contents and positions it
// can't trust, for normal and overwritable rings: it must return records
// that lie within the readable bytes, or an error, and never read outside
// the ring or loop forever.
func FuzzReadRecord(f *testing.F) {
	seed := newFakeRing(128, false)
	seed.sample(bytesOf(5, 1))
	seed.lost(3)
	seed.record(unix.PERF_RECORD_MMAP, bytesOf(12, 0))
	seed.sample(bytesOf(30, 2))
	f.Add(append([]byte(nil), seed.data...), seed.meta.Data_head, uint64(0), false)
	back := newFakeRing(128, true)
	back.sample(bytesOf(7, 1))
	back.sample(bytesOf(40, 1))
	f.Add(append([]byte(nil), back.data...), back.meta.Data_head, uint64(0), true)

	f.Fuzz(func(t *testing.T, data []byte, head, tail uint64, overwritable bool) {
		const size = 128
		fr := newFakeRing(size, overwritable)
		copy(fr.data, data)
		fr.meta.Data_tail = tail
		ring := fr.ring()
		atomic.StoreUint64(&fr.meta.Data_head, head)
		ring.reader.loadHead()
		if left := ring.reader.left(); !overwritable && left > size {
			// The kernel never publishes more than the ring holds;
			// the Reader trusts that much.
			return
		}
		var scratch [16]byte
		var rec Record
		for range size {
			before := ring.reader.left()
			err := ring.readRecord(&rec, scratch[:])
			if err == errEOR {
				return
			}
			if ring.reader.left() >= before {
				t.Fatalf("no progress: %d bytes left before, %d after (%v)", before, ring.reader.left(), err)
			}
			if len(rec.RawSample) > size {
				t.Fatalf("sample of %d bytes from a %d-byte ring", len(rec.RawSample), size)
			}
		}
	})
}
