package sys

import (
	"testing"

	"github.com/go-quicktest/qt"
)

// TestHotPathAllocs proves that the element commands do not allocate: the
// attribute struct stays on the caller's stack, errors included (ENOENT).
func TestHotPathAllocs(t *testing.T) {
	requireBPF(t)
	m := hashMap(t)
	qt.Assert(t, qt.IsNil(update(m, 1, 1, BPF_ANY)))
	tests := map[string]func(){
		"lookup":         func() { lookup(m, 1) },
		"lookup missing": func() { lookup(m, 2) },
		"update":         func() { update(m, 1, 2, BPF_ANY) },
		"delete missing": func() {
			key := uint32(3)
			attr := MapDeleteElemAttr{MapFd: m.Uint(), Key: ptrTo(&key)}
			MapDeleteElem(&attr)
		},
	}
	for name, fn := range tests {
		qt.Check(t, qt.Equals(testing.AllocsPerRun(100, fn), 0.0), qt.Commentf("%s allocates", name))
	}
}

func BenchmarkMapLookupElem(b *testing.B) {
	requireBPF(b)
	m := createMap(b, MapCreateAttr{MapType: BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 8})
	if err := update(m, 1, 1, BPF_ANY); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lookup(m, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMapUpdateElem(b *testing.B) {
	requireBPF(b)
	m := createMap(b, MapCreateAttr{MapType: BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 8})
	b.ReportAllocs()
	for b.Loop() {
		if err := update(m, 1, 1, BPF_ANY); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMapLookupElemMissing(b *testing.B) {
	requireBPF(b)
	m := createMap(b, MapCreateAttr{MapType: BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 8})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lookup(m, 1); err == nil {
			b.Fatal("found a key in an empty map")
		}
	}
}
