package ringbuf

import (
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/internal/testutils"
)

// benchmarkRead reads 64-byte samples from a 1 MiB ring that the program
// refills (outside the timer) whenever it runs dry.
func benchmarkRead(b *testing.B, read func(*Reader, *Record) error) {
	const (
		ringSize   = 1 << 20
		sampleSize = 64
	)
	tr := newTestRing(b, ringSize)
	rd := newTestReader(b, tr)
	perFill := ringSize / recordSize(sampleSize)

	var rec Record
	testutils.RefilledReads(b, sampleSize, perFill,
		func() { qt.Assert(b, qt.Equals(tr.run(b, opOutput, sampleSize, 0, uint32(perFill)), xdpPass)) },
		func() error { return read(rd, &rec) })
}

// BenchmarkReadInto is the hot path: a reused Record, no allocation, no
// system call while records wait.
func BenchmarkReadInto(b *testing.B) {
	benchmarkRead(b, func(rd *Reader, rec *Record) error { return rd.ReadInto(rec) })
}

// BenchmarkRead allocates each sample.
func BenchmarkRead(b *testing.B) {
	benchmarkRead(b, func(rd *Reader, rec *Record) (err error) {
		*rec, err = rd.Read()
		return err
	})
}
