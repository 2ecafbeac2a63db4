package ringbuf

import (
	"io"
	"os"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"

	"github.com/bpfkit/ebpf/internal/epoll"
)

// fakeRing is a ring buffer in ordinary memory, laid out as the kernel
// lays out the mapping (the data area twice in a row), with a producer
// that the test drives. It needs no privileges.
type fakeRing struct {
	rr   *ringReader
	pos  []uintptr // consumer, producer
	prod uintptr   // the producer position the next record goes to
}

func newFakeRing(size int) *fakeRing {
	pos := make([]uintptr, 2)
	// Go allocates a []byte of this size 8-byte aligned, as the kernel's
	// pages are.
	data := make([]byte, 2*size)
	return &fakeRing{
		rr: &ringReader{
			cons: &pos[0],
			prod: &pos[1],
			data: data,
			size: uintptr(size),
			mask: uintptr(size - 1),
		},
		pos: pos,
	}
}

// write puts b at ring position p, in both copies of the data area.
func (f *fakeRing) write(p uintptr, b []byte) {
	for i, c := range b {
		off := (p + uintptr(i)) & f.rr.mask
		f.rr.data[off] = c
		f.rr.data[off+f.rr.size] = c
	}
}

// header returns the length word of the record at ring position p (in
// the first copy; the fake producer stores to both).
func (f *fakeRing) setHeader(p uintptr, hdr uint32) {
	off := p & f.rr.mask
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&f.rr.data[off])), hdr)
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&f.rr.data[off+f.rr.size])), hdr)
}

// reserve writes a record with header bits flags and the sample, like
// bpf_ringbuf_reserve followed by a copy, publishes it by advancing the
// producer position, and returns where it starts.
func (f *fakeRing) reserve(sample []byte, flags uint32) uintptr {
	p := f.prod
	f.write(p+headerSize, sample)
	f.setHeader(p, uint32(len(sample))|flags)
	f.prod += uintptr(recordSize(len(sample)))
	atomic.StoreUintptr(&f.pos[1], f.prod)
	return p
}

func (f *fakeRing) consumer() uintptr { return atomic.LoadUintptr(&f.pos[0]) }

func sampleOf(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

func TestReadRecordSequence(t *testing.T) {
	f := newFakeRing(256)
	// Records of every alignment remainder, with discards in between
	// and at the end, going round the 256-byte ring several times.
	type want struct {
		sample    []byte
		remaining int
	}
	var wants []want
	var rec Record
	for round := range 6 {
		var batch [][]byte
		for i, n := range []int{0, 1, 7, 8, 9, 15, 16, 17} {
			s := sampleOf(n, byte(round*16+i))
			f.reserve(s, 0)
			batch = append(batch, s)
			if i%3 == 0 {
				f.reserve(sampleOf(5, 0xee), discardBit)
			}
		}
		f.reserve(sampleOf(3, 0xdd), discardBit)

		wants = wants[:0]
		for _, s := range batch {
			wants = append(wants, want{sample: s})
		}
		var got []want
		for {
			err := f.rr.readRecord(&rec)
			if err == errEmpty {
				break
			}
			qt.Assert(t, qt.IsNil(err))
			got = append(got, want{sample: append([]byte{}, rec.RawSample...), remaining: rec.Remaining})
		}
		// Remaining counts what follows, discarded records included.
		for i := range wants {
			wants[i].remaining = got[i].remaining
		}
		qt.Assert(t, qt.CmpEquals(got, wants, cmp.AllowUnexported(want{})), qt.Commentf("round %d", round))
		qt.Assert(t, qt.Equals(got[len(got)-1].remaining, recordSize(3)))
		qt.Assert(t, qt.Equals(f.consumer(), f.prod))
		qt.Assert(t, qt.Equals(f.rr.AvailableBytes(), 0))
	}
}

func TestReadRecordReusesBuffer(t *testing.T) {
	f := newFakeRing(4096)
	rec := Record{RawSample: make([]byte, 0, 64)}
	buf := rec.RawSample[:1]
	f.reserve(sampleOf(40, 1), 0)
	qt.Assert(t, qt.IsNil(f.rr.readRecord(&rec)))
	qt.Assert(t, qt.Equals(&rec.RawSample[0], &buf[0]))
	qt.Assert(t, qt.DeepEquals(rec.RawSample, sampleOf(40, 1)))

	f.reserve(sampleOf(100, 2), 0)
	qt.Assert(t, qt.IsNil(f.rr.readRecord(&rec)))
	qt.Assert(t, qt.DeepEquals(rec.RawSample, sampleOf(100, 2)))

	allocs := testing.AllocsPerRun(100, func() {
		f.reserve(sampleOf(0, 0)[:0], 0)
		if err := f.rr.readRecord(&rec); err != nil {
			t.Fatal(err)
		}
	})
	qt.Assert(t, qt.Equals(allocs, 0))
}

func TestReadRecordBusy(t *testing.T) {
	f := newFakeRing(4096)
	p := f.reserve(sampleOf(12, 9), busyBit)
	f.reserve(sampleOf(4, 1), 0)
	var rec Record
	qt.Assert(t, qt.Equals(f.rr.readRecord(&rec), errBusy))
	// Nothing was consumed: the busy record blocks the ones after it.
	qt.Assert(t, qt.Equals(f.consumer(), 0))
	qt.Assert(t, qt.Equals(f.rr.AvailableBytes(), uint64(recordSize(12)+recordSize(4))))

	f.setHeader(p, 12)
	qt.Assert(t, qt.IsNil(f.rr.readRecord(&rec)))
	qt.Assert(t, qt.DeepEquals(rec.RawSample, sampleOf(12, 9)))
	qt.Assert(t, qt.Equals(rec.Remaining, recordSize(4)))
	qt.Assert(t, qt.IsNil(f.rr.readRecord(&rec)))
	qt.Assert(t, qt.DeepEquals(rec.RawSample, sampleOf(4, 1)))
	qt.Assert(t, qt.Equals(f.rr.readRecord(&rec), errEmpty))

	// A reservation the producer discards later is skipped then.
	p = f.reserve(sampleOf(8, 0), busyBit)
	qt.Assert(t, qt.Equals(f.rr.readRecord(&rec), errBusy))
	f.setHeader(p, 8|discardBit)
	qt.Assert(t, qt.Equals(f.rr.readRecord(&rec), errEmpty))
	qt.Assert(t, qt.Equals(f.consumer(), f.prod))
}

func TestReadRecordCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fakeRing)
		err   string
	}{
		{"header cut short", func(f *fakeRing) {
			atomic.StoreUintptr(&f.pos[1], 4)
		}, `ring buffer: 4 bytes before the producer position, too few for a record header: unexpected EOF`},
		{"sample beyond producer", func(f *fakeRing) {
			f.reserve(sampleOf(32, 0), 0)
			atomic.StoreUintptr(&f.pos[1], 16)
		}, `ring buffer: record of 32 bytes at position 0 exceeds the 16 bytes published: unexpected EOF`},
		{"record larger than ring", func(f *fakeRing) {
			f.setHeader(0, 300)
			atomic.StoreUintptr(&f.pos[1], 1<<20)
		}, `ring buffer: record of 300 bytes at position 0 exceeds the 1048576 bytes published: unexpected EOF`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeRing(256)
			tc.setup(f)
			rec := Record{RawSample: []byte("untouched")}
			err := f.rr.readRecord(&rec)
			qt.Assert(t, qt.ErrorMatches(err, regexp.QuoteMeta(tc.err)))
			qt.Assert(t, qt.ErrorIs(err, io.ErrUnexpectedEOF))
			qt.Assert(t, qt.Equals(string(rec.RawSample), "untouched"))
			// What was published is dropped: the next read starts
			// afresh.
			qt.Assert(t, qt.Equals(f.consumer(), atomic.LoadUintptr(&f.pos[1])))
			qt.Assert(t, qt.Equals(f.rr.readRecord(&rec), errEmpty))
		})
	}
}

// newFakeReader is a Reader over a fake ring: a real waiter with nothing
// added, so only Flush, Close and deadlines wake it.
func newFakeReader(t *testing.T, f *fakeRing) *Reader {
	t.Helper()
	w, err := epoll.NewWaiter("ringbuf", errReaderClosed)
	qt.Assert(t, qt.IsNil(err))
	r := &Reader{waiter: w, ring: f.rr, bufferSize: int(f.rr.size)}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestReaderWaitsForCommit(t *testing.T) {
	f := newFakeRing(4096)
	r := newFakeReader(t, f)
	p := f.reserve(sampleOf(24, 5), busyBit)

	done := make(chan error)
	var rec Record
	go func() { done <- r.ReadInto(&rec) }()
	// The reader spins on the busy header; committing it lets it go.
	f.setHeader(p, 24)
	qt.Assert(t, qt.IsNil(<-done))
	qt.Assert(t, qt.DeepEquals(rec.RawSample, sampleOf(24, 5)))
}

func TestReaderCloseWhileWaitingForCommit(t *testing.T) {
	f := newFakeRing(4096)
	r := newFakeReader(t, f)
	f.reserve(sampleOf(24, 5), busyBit)

	done := make(chan error)
	go func() {
		_, err := r.Read()
		done <- err
	}()
	qt.Assert(t, qt.IsNil(r.Close()))
	err := <-done
	qt.Assert(t, qt.ErrorIs(err, ErrClosed))
	qt.Assert(t, qt.ErrorIs(err, os.ErrClosed))
}

func TestReaderFakeDeadlineAndFlush(t *testing.T) {
	f := newFakeRing(4096)
	r := newFakeReader(t, f)
	f.reserve(sampleOf(3, 1), 0)

	// Records already in the ring come before the flush.
	qt.Assert(t, qt.IsNil(r.Flush()))
	rec, err := r.Read()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(rec.RawSample, sampleOf(3, 1)))
	_, err = r.Read()
	qt.Assert(t, qt.ErrorIs(err, ErrFlushed))

	r.SetDeadline(time.Now().Add(-time.Second))
	_, err = r.Read()
	qt.Assert(t, qt.ErrorIs(err, os.ErrDeadlineExceeded))
}

// TestUAPIConstants checks the record header constants, which
// internal/sys does not generate, against the kernel header every
// generator reads.
func TestUAPIConstants(t *testing.T) {
	hdr, err := os.ReadFile("../internal/cmd/uapi/bpf-uapi.h")
	qt.Assert(t, qt.IsNil(err))
	for name, want := range map[string]uint64{
		"BPF_RINGBUF_BUSY_BIT":    busyBit,
		"BPF_RINGBUF_DISCARD_BIT": discardBit,
		"BPF_RINGBUF_HDR_SZ":      headerSize,
	} {
		m := regexp.MustCompile(`\b` + name + ` = (\d+),`).FindSubmatch(hdr)
		qt.Assert(t, qt.HasLen(m, 2), qt.Commentf("%s not in bpf-uapi.h", name))
		got, err := strconv.ParseUint(string(m[1]), 10, 64)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(got, want), qt.Commentf("%s", name))
	}
}
