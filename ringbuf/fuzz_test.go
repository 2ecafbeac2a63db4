package ringbuf

import (
	"sync/atomic"
	"testing"
)

// FuzzReadRecord feeds readRecord ring contents and a producer position
// it can't trust: it must return records that lie within the published
// bytes, or an error, and never read outside the mapping or loop forever.
func FuzzReadRecord(f *testing.F) {
	seed := newFakeRing(64)
	seed.reserve(sampleOf(5, 1), 0)
	seed.reserve(sampleOf(9, 2), discardBit)
	seed.reserve(sampleOf(16, 3), 0)
	f.Add(append([]byte(nil), seed.rr.data[:64]...), uint64(seed.prod), uint64(0))
	f.Add(make([]byte, 64), uint64(1<<40), uint64(3))

	f.Fuzz(func(t *testing.T, ring []byte, prod, cons uint64) {
		const size = 64
		f := newFakeRing(size)
		f.write(0, ring[:min(len(ring), size)])
		start := uintptr(cons &^ 7)
		f.rr.pos = start
		f.pos[0] = start
		end := start + uintptr(prod%(4*size))
		atomic.StoreUintptr(&f.pos[1], end)
		var rec Record
		for range 4 * size {
			before := f.rr.pos
			err := f.rr.readRecord(&rec)
			if err != nil {
				return
			}
			if f.rr.pos <= before || f.rr.pos > end {
				t.Fatalf("consumer moved from %d to %d, producer at %d", before, f.rr.pos, end)
			}
			if len(rec.RawSample) > size {
				t.Fatalf("sample of %d bytes from a %d-byte ring", len(rec.RawSample), size)
			}
		}
	})
}
