package testutils

import "testing"

// RefilledReads is the body of a ring reader's benchmark: it calls read
// b.N times and, outside the timer, calls fill before the first read and
// after every perFill reads, as a program refills the ring whenever the
// reader has taken everything. Each read counts bytesPerRead bytes, and
// allocations are reported. read and fill fail the benchmark themselves;
// an error from read stops it.
func RefilledReads(b *testing.B, bytesPerRead int64, perFill int, fill func(), read func() error) {
	b.Helper()
	if perFill < 1 {
		b.Fatalf("a fill of %d reads", perFill)
	}
	left := 0
	b.ReportAllocs()
	b.SetBytes(bytesPerRead)
	b.ResetTimer()
	for range b.N {
		if left == 0 {
			b.StopTimer()
			fill()
			left = perFill
			b.StartTimer()
		}
		if err := read(); err != nil {
			b.Fatal(err)
		}
		left--
	}
}
