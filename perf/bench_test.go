package perf

import (
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/internal/testutils"
)

// benchmarkRead reads 64-byte samples from CPU 0's 1 MiB ring, which the
// program refills (outside the timer) whenever the reader has taken all.
func benchmarkRead(b *testing.B, read func(*Reader, *Record) error) {
	const (
		perCPUBuffer = 1 << 20
		sampleSize   = 64
	)
	ta := newTestArray(b)
	// A wake-up per sample would make refilling slow (an interrupt
	// each, a VM exit on virtual machines); wake at half the ring.
	rd := newTestReader(b, ta, perCPUBuffer, ReaderOptions{Watermark: perCPUBuffer / 2})
	perFill := rd.BufferSize() / recordSize(sampleSize)

	var rec Record
	testutils.RefilledReads(b, sampleSize, perFill,
		func() { qt.Assert(b, qt.Equals(ta.emit(b, 0, sampleSize, uint32(perFill)), xdpPass)) },
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
