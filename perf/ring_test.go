package perf

import (
	"io"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
)

// fakeRing is a perf ring in ordinary memory with a producer the test
// drives, writing forward or, like an overwritable ring, backward. It
// needs no privileges.
type fakeRing struct {
	meta     *unix.PerfEventMmapPage
	data     []byte
	backward bool
}

func newFakeRing(size int, backward bool) *fakeRing {
	return &fakeRing{meta: &unix.PerfEventMmapPage{}, data: make([]byte, size), backward: backward}
}

func (f *fakeRing) put(pos uint64, b []byte) {
	for i, c := range b {
		f.data[(pos+uint64(i))&uint64(len(f.data)-1)] = c
	}
}

// record writes a record of type typ with body, padded to 8 bytes, and
// publishes it.
func (f *fakeRing) record(typ uint32, body []byte) {
	size := (eventHeaderSize + len(body) + 7) &^ 7
	rec := make([]byte, size)
	internal.NativeEndian.PutUint32(rec[0:], typ)
	internal.NativeEndian.PutUint16(rec[6:], uint16(size))
	copy(rec[eventHeaderSize:], body)
	head := atomic.LoadUint64(&f.meta.Data_head)
	if f.backward {
		head -= uint64(size)
		f.put(head, rec)
	} else {
		f.put(head, rec)
		head += uint64(size)
	}
	atomic.StoreUint64(&f.meta.Data_head, head)
}

// sample writes a PERF_RECORD_SAMPLE as the kernel does: the raw size is
// padded so that it and the data fill whole 8 bytes.
func (f *fakeRing) sample(data []byte) {
	n := (len(data)+4+7)&^7 - 4
	body := make([]byte, 4+n)
	internal.NativeEndian.PutUint32(body, uint32(n))
	copy(body[4:], data)
	f.record(unix.PERF_RECORD_SAMPLE, body)
}

func (f *fakeRing) lost(n uint64) {
	body := make([]byte, 16)
	internal.NativeEndian.PutUint64(body[0:], 99) // id
	internal.NativeEndian.PutUint64(body[8:], n)
	f.record(unix.PERF_RECORD_LOST, body)
}

func (f *fakeRing) ring() *perfEventRing {
	return &perfEventRing{cpu: 3, reader: newRingReader(f.meta, f.data, f.backward)}
}

func bytesOf(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

// drain reads every record of ring after one loadHead.
func drain(t *testing.T, ring *perfEventRing) []Record {
	t.Helper()
	ring.reader.loadHead()
	var scratch [16]byte
	var out []Record
	for {
		var rec Record
		err := ring.readRecord(&rec, scratch[:])
		if err == errEOR {
			return out
		}
		qt.Assert(t, qt.IsNil(err))
		out = append(out, rec)
	}
}

func sampleRecord(data []byte, remaining int) Record {
	n := (len(data)+4+7)&^7 - 4
	raw := make([]byte, n)
	copy(raw, data)
	return Record{CPU: 3, RawSample: raw, Remaining: remaining}
}

func TestForwardRing(t *testing.T) {
	f := newFakeRing(256, false)
	ring := f.ring()
	for round := range 5 {
		// 224 bytes a round: records wrap around the 256-byte ring at
		// a different place each time.
		f.sample(bytesOf(3, byte(round)))
		f.lost(7)
		f.sample(bytesOf(60, byte(round)))
		f.sample(bytesOf(100, byte(round)))
		got := drain(t, ring)
		want := []Record{
			sampleRecord(bytesOf(3, byte(round)), 208),
			{CPU: 3, LostSamples: 7, Remaining: 184},
			sampleRecord(bytesOf(60, byte(round)), 112),
			sampleRecord(bytesOf(100, byte(round)), 0),
		}
		qt.Assert(t, qt.CmpEquals(got, want, cmpopts.EquateEmpty()), qt.Commentf("round %d", round))
		// Every record's space went back to the kernel.
		qt.Assert(t, qt.Equals(atomic.LoadUint64(&f.meta.Data_tail), atomic.LoadUint64(&f.meta.Data_head)))
	}
}

func TestReverseRing(t *testing.T) {
	f := newFakeRing(256, true)
	ring := f.ring()
	f.sample(bytesOf(10, 1))
	f.sample(bytesOf(20, 2))
	qt.Assert(t, qt.CmpEquals(drain(t, ring), []Record{
		sampleRecord(bytesOf(20, 2), -1),
		sampleRecord(bytesOf(10, 1), -1),
	}, cmpopts.EquateEmpty()))
	qt.Assert(t, qt.HasLen(drain(t, ring), 0))

	// 8 records of 48 bytes overwrite a 256-byte ring: the newest five
	// are whole, the sixth is cut by the newest.
	for i := range 8 {
		f.sample(bytesOf(30, byte(10+i)))
	}
	var want []Record
	for i := 7; i >= 3; i-- {
		want = append(want, sampleRecord(bytesOf(30, byte(10+i)), -1))
	}
	qt.Assert(t, qt.CmpEquals(drain(t, ring), want, cmpopts.EquateEmpty()))
	// Nothing new: an empty window.
	qt.Assert(t, qt.HasLen(drain(t, ring), 0))
}

func TestReadRecordErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		write   func(f *fakeRing)
		err     string
		unknown bool
	}{
		{"unknown type", func(f *fakeRing) {
			f.record(unix.PERF_RECORD_MMAP, bytesOf(20, 0))
		}, `perf event ring: record of unknown type 1`, true},
		{"size below header", func(f *fakeRing) {
			f.record(unix.PERF_RECORD_SAMPLE, nil)
			internal.NativeEndian.PutUint16(f.data[6:], 4)
		}, `perf event ring: record of 4 bytes, 8 bytes left in the ring: unexpected EOF`, false},
		{"size beyond head", func(f *fakeRing) {
			f.record(unix.PERF_RECORD_SAMPLE, make([]byte, 8))
			internal.NativeEndian.PutUint16(f.data[6:], 64)
		}, `perf event ring: record of 64 bytes, 16 bytes left in the ring: unexpected EOF`, false},
		{"sample larger than record", func(f *fakeRing) {
			body := make([]byte, 12)
			internal.NativeEndian.PutUint32(body, 100)
			f.record(unix.PERF_RECORD_SAMPLE, body)
		}, `perf event ring: sample of 100 bytes in a record of 24: unexpected EOF`, false},
		{"short lost record", func(f *fakeRing) {
			f.record(unix.PERF_RECORD_LOST, make([]byte, 8))
		}, `perf event ring: lost record of 16 bytes: unexpected EOF`, false},
		{"short sample record", func(f *fakeRing) {
			f.record(unix.PERF_RECORD_SAMPLE, nil)
		}, `perf event ring: sample record of 8 bytes: unexpected EOF`, false},
		{"header cut", func(f *fakeRing) {
			atomic.StoreUint64(&f.meta.Data_head, 4)
		}, `perf event ring: 4 bytes left, too few for a record header: unexpected EOF`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeRing(256, false)
			ring := f.ring()
			tc.write(f)
			ring.reader.loadHead()
			var scratch [16]byte
			var rec Record
			err := ring.readRecord(&rec, scratch[:])
			qt.Assert(t, qt.ErrorMatches(err, regexp.QuoteMeta(tc.err)))
			qt.Assert(t, qt.Equals(IsUnknownEvent(err), tc.unknown))
			if !tc.unknown {
				qt.Assert(t, qt.ErrorIs(err, io.ErrUnexpectedEOF))
				return
			}
			// The unknown record was skipped: the next one reads.
			f.sample(bytesOf(5, 1))
			ring.reader.loadHead()
			qt.Assert(t, qt.IsNil(ring.readRecord(&rec, scratch[:])))
			qt.Assert(t, qt.CmpEquals(rec, sampleRecord(bytesOf(5, 1), 0)))
		})
	}
}

func TestReadRecordAllocations(t *testing.T) {
	f := newFakeRing(4096, false)
	ring := f.ring()
	var scratch [16]byte
	rec := Record{RawSample: make([]byte, 0, 64)}
	data := bytesOf(40, 0)
	allocs := testing.AllocsPerRun(100, func() {
		f.sample(data)
		ring.reader.loadHead()
		if err := ring.readRecord(&rec, scratch[:]); err != nil {
			t.Fatal(err)
		}
	})
	// f.sample allocates two buffers; readRecord nothing.
	qt.Assert(t, qt.Equals(allocs, 2))
}
