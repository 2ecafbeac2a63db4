package ebpf

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// newBenchHash is a hash map of 1024 uint32 keys with uint64 values, as
// the shared comparison benchmarks use.
func newBenchHash(tb testing.TB) *Map {
	tb.Helper()
	testutils.RequireRoot(tb)
	m, err := NewMap(&MapSpec{Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 1024})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	for k := uint32(0); k < 1024; k++ {
		if err := m.Put(k, uint64(k)); err != nil {
			tb.Fatal(err)
		}
	}
	return m
}

func BenchmarkMapLookup(b *testing.B) {
	m := newBenchHash(b)
	var v uint64
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := m.Lookup(uint32(i&1023), &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMapLookupMissing(b *testing.B) {
	m := newBenchHash(b)
	var v uint64
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := m.Lookup(uint32(i|4096), &v); err == nil {
			b.Fatal("found a missing key")
		}
	}
}

func BenchmarkMapUpdate(b *testing.B) {
	m := newBenchHash(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := m.Update(uint32(i&1023), uint64(i), UpdateAny); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMapDelete(b *testing.B) {
	m := newBenchHash(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Delete(uint32(i | 4096))
	}
}

func BenchmarkMapIterate(b *testing.B) {
	for _, batch := range []bool{true, false} {
		name := "batch"
		if !batch {
			name = "nextkey"
		}
		b.Run(name, func(b *testing.B) {
			m := newBenchHash(b)
			b.ReportAllocs()
			for b.Loop() {
				var k uint32
				var v uint64
				it := newMapIterator(m, batch)
				n := 0
				for it.Next(&k, &v) {
					n++
				}
				if it.Err() != nil || n != 1024 {
					b.Fatal(it.Err(), n)
				}
			}
		})
	}
}

// BenchmarkMapRawLookup is the floor MapLookup is measured against: the
// same lookup as one bare bpf(2) call.
func BenchmarkMapRawLookup(b *testing.B) {
	m := newBenchHash(b)
	var key uint32
	var val uint64
	attr := sys.MapLookupElemAttr{MapFd: m.fd.Uint(), Key: sys.NewPointer(unsafe.Pointer(&key)), Value: sys.NewPointer(unsafe.Pointer(&val))}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		key = uint32(i & 1023)
		if _, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(sys.BPF_MAP_LOOKUP_ELEM), uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr)); errno != 0 {
			b.Fatal(errno)
		}
	}
}
