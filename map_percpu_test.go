package ebpf

import (
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/internal"
)

// exercisePerCPU tests a per-CPU map with uint32 keys and 4-byte values,
// whose per-CPU slots are 8 bytes apart.
func exercisePerCPU(t *testing.T, m *Map) {
	cpus := MustPossibleCPU()

	// Fewer values than CPUs: the rest are zero.
	qt.Assert(t, qt.IsNil(m.Put(uint32(1), []uint32{7})))
	got := make([]uint32, cpus)
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(1), got)))
	want := make([]uint32, cpus)
	want[0] = 7
	qt.Assert(t, qt.DeepEquals(got, want))

	values := make([]uint32, cpus)
	for i := range values {
		values[i] = uint32(100 + i)
	}
	qt.Assert(t, qt.IsNil(m.Put(uint32(2), values)))

	// A pointer to a nil slice is allocated.
	var ptr []uint32
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(2), &ptr)))
	qt.Assert(t, qt.DeepEquals(ptr, values))

	// Pointer elements are allocated too.
	ptrs := make([]*uint32, cpus)
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(2), ptrs)))
	qt.Assert(t, qt.Equals(*ptrs[cpus-1], uint32(100+cpus-1)))

	// Raw bytes: 8-byte slots.
	raw, err := m.LookupBytes(uint32(2))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(raw, 8*cpus))
	qt.Assert(t, qt.Equals(internal.NativeEndian.Uint32(raw[8:]), 101))

	// Errors: a single value, too many values, a slice of the wrong length.
	qt.Assert(t, qt.ErrorMatches(m.Put(uint32(3), uint32(1)), `.*per-CPU value: uint32 is not a slice.*`))
	qt.Assert(t, qt.ErrorMatches(m.Put(uint32(3), make([]uint32, cpus+1)), `.*per-CPU value: \d+ elements for \d+ possible CPUs`))
	qt.Assert(t, qt.ErrorMatches(m.Lookup(uint32(2), make([]uint32, cpus+1)), `.*per-CPU value: .*`))

	// Iterating yields per-CPU values, batched or not.
	for _, batch := range []bool{true, false} {
		seen := map[uint32][]uint32{}
		var k uint32
		var v []uint32
		it := newMapIterator(m, batch && m.typ.hasBatchLookup())
		for it.Next(&k, &v) {
			seen[k] = append([]uint32(nil), v...)
		}
		qt.Assert(t, qt.IsNil(it.Err()))
		qt.Assert(t, qt.DeepEquals(seen[2], values))
		qt.Assert(t, qt.DeepEquals(seen[1], want))
	}

	if m.typ != PerCPUArray {
		qt.Assert(t, qt.IsNil(m.Delete(uint32(1))))
	}
}

// 8-byte values need no repacking: the kernel writes the caller's slice.
func TestPerCPUZeroCopy(t *testing.T) {
	m := newTestMap(t, &MapSpec{Type: PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	cpus := MustPossibleCPU()
	in := make([]uint64, cpus)
	for i := range in {
		in[i] = uint64(i) << 40
	}
	qt.Assert(t, qt.IsNil(m.Put(uint32(1), in)))
	out := make([]uint64, cpus)
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(1), out)))
	qt.Assert(t, qt.DeepEquals(out, in))
	allocs := testing.AllocsPerRun(50, func() {
		if err := m.Lookup(uint32(1), out); err != nil {
			t.Fatal(err)
		}
	})
	qt.Assert(t, qt.Equals(allocs, 0.0))
}
