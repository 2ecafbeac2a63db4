package ebpf

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
)

// batchTypes are the map types with batch operations, each with whether it
// can delete.
var batchTypes = []struct {
	typ       MapType
	deletable bool
}{
	{Hash, true},
	{LRUHash, true},
	{PerCPUHash, true},
	{LRUCPUHash, true},
	{Array, false},
	{PerCPUArray, false},
}

func requireBatch(t *testing.T) {
	t.Helper()
	if err := haveBatchAPI(); err != nil {
		t.Skip(err)
	}
}

func TestMapBatch(t *testing.T) {
	const entries = 100
	cpus := MustPossibleCPU()
	for _, bt := range batchTypes {
		t.Run(bt.typ.String(), func(t *testing.T) {
			requireBatch(t)
			m := newTestMap(t, &MapSpec{Type: bt.typ, KeySize: 4, ValueSize: 4, MaxEntries: entries})
			per := 1
			if bt.typ.hasPerCPUValue() {
				per = cpus
			}

			keys := make([]uint32, entries)
			values := make([]uint32, entries*per)
			for i := range keys {
				keys[i] = uint32(i)
				for c := 0; c < per; c++ {
					values[i*per+c] = uint32(i*1000 + c)
				}
			}
			n, err := m.BatchUpdate(keys, values, nil)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(n, entries))

			// Read back in chunks of 16 until the end.
			got := map[uint32][]uint32{}
			var cursor MapBatchCursor
			kOut := make([]uint32, 16)
			vOut := make([]uint32, 16*per)
			for {
				n, err := m.BatchLookup(&cursor, kOut, vOut, nil)
				for i := 0; i < n; i++ {
					got[kOut[i]] = append([]uint32(nil), vOut[i*per:(i+1)*per]...)
				}
				if errors.Is(err, ErrKeyNotExist) {
					break
				}
				qt.Assert(t, qt.IsNil(err))
			}
			want := map[uint32][]uint32{}
			for i, k := range keys {
				want[k] = values[i*per : (i+1)*per]
			}
			qt.Assert(t, qt.DeepEquals(got, want))

			// A cursor belongs to its map.
			other := newTestMap(t, &MapSpec{Type: bt.typ, KeySize: 4, ValueSize: 4, MaxEntries: entries})
			_, err = other.BatchLookup(&cursor, kOut, vOut, nil)
			qt.Assert(t, qt.ErrorMatches(err, `.*the cursor belongs to .*`))

			if !bt.deletable {
				// Arrays have every key: the kernel doesn't delete.
				_, err := m.BatchDelete(keys[:2], nil)
				qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
				return
			}
			n, err = m.BatchDelete(keys[:10], nil)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(n, 10))

			// Lookup and delete drains the rest.
			cursor = MapBatchCursor{}
			total := 0
			for {
				n, err := m.BatchLookupAndDelete(&cursor, kOut, vOut, nil)
				total += n
				if errors.Is(err, ErrKeyNotExist) {
					break
				}
				qt.Assert(t, qt.IsNil(err))
			}
			qt.Assert(t, qt.Equals(total, entries-10))
			var k uint32
			qt.Assert(t, qt.ErrorIs(m.NextKey(nil, &k), ErrKeyNotExist))
		})
	}
}

// TestMapBatchPadded uses keys and values that must be repacked (padding,
// per-CPU stride) instead of written in place.
func TestMapBatchPadded(t *testing.T) {
	requireBatch(t)
	type key struct {
		A uint8
		B uint32
	}
	m := newTestMap(t, &MapSpec{Type: PerCPUHash, KeySize: 8, ValueSize: 2, MaxEntries: 8})
	cpus := MustPossibleCPU()
	keys := []key{{1, 2}, {3, 4}}
	values := make([]uint16, 2*cpus)
	for i := range values {
		values[i] = uint16(i + 1)
	}
	_, err := m.BatchUpdate(keys, values, nil)
	qt.Assert(t, qt.IsNil(err))

	var cursor MapBatchCursor
	kOut := make([]key, 4)
	vOut := make([]uint16, 4*cpus)
	n, err := m.BatchLookup(&cursor, kOut, vOut, nil)
	qt.Assert(t, qt.ErrorIs(err, ErrKeyNotExist))
	qt.Assert(t, qt.Equals(n, 2))
	got := map[key][]uint16{}
	for i := 0; i < n; i++ {
		got[kOut[i]] = vOut[i*cpus : (i+1)*cpus]
	}
	qt.Assert(t, qt.DeepEquals(got, map[key][]uint16{keys[0]: values[:cpus], keys[1]: values[cpus:]}))
	// Entries past n are left alone.
	qt.Assert(t, qt.Equals(kOut[3], key{}))
}

func TestMapBatchErrors(t *testing.T) {
	requireBatch(t)
	m := newTestMap(t, &MapSpec{Name: "b", Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 8})
	var cursor MapBatchCursor
	tests := []struct {
		err  error
		want string
	}{
		{second(m.BatchUpdate([]uint32{1}, []uint32{1, 2}, nil)), "map b: batch update: 1 keys need 1 values, have 2"},
		{second(m.BatchUpdate(uint32(1), []uint32{1}, nil)), "map b: batch update: keys: uint32 is not a slice"},
		{second(m.BatchUpdate([]uint64{1}, []uint32{1}, nil)), "map b: batch update: keys: []uint64 of 8 bytes (1 elements of 8) doesn't match size 4"},
		{second(m.BatchLookup(nil, []uint32{0}, []uint32{0}, nil)), "map b: batch lookup: nil cursor"},
		{second(m.BatchLookup(&cursor, []uint32{0}, &[]uint32{0}, nil)), "map b: batch lookup: values: *[]uint32 is not a slice"},
		{second(m.BatchDelete([]uint32{5}, nil)), "map b: batch delete: key does not exist"},
	}
	for i, tt := range tests {
		qt.Assert(t, qt.ErrorMatches(tt.err, quoteMapErr(tt.want)), qt.Commentf("case %d", i))
	}

	// A hash bucket larger than the batch: ENOSPC, with a hint.
	big := newTestMap(t, &MapSpec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1024})
	for k := uint32(0); k < 1024; k++ {
		qt.Assert(t, qt.IsNil(big.Put(k, k)))
	}
	cursor = MapBatchCursor{}
	_, err := big.BatchLookup(&cursor, make([]uint32, 1), make([]uint32, 1), nil)
	if err != nil && !errors.Is(err, ErrKeyNotExist) {
		qt.Assert(t, qt.ErrorMatches(err, `.*use a larger batch.*`))
	}
}

func second[T any](_ T, err error) error { return err }

// TestIterateBothPaths checks that batched iteration and the key walk give
// the same entries, for every map type that has batches and random
// contents.
func TestIterateBothPaths(t *testing.T) {
	requireBatch(t)
	cpus := MustPossibleCPU()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bt := range batchTypes {
		for _, size := range []uint32{1, 7, 1000} {
			t.Run(fmt.Sprintf("%s/%d", bt.typ, size), func(t *testing.T) {
				m := newTestMap(t, &MapSpec{Type: bt.typ, KeySize: 4, ValueSize: 12, MaxEntries: size})
				per := 1
				if bt.typ.hasPerCPUValue() {
					per = cpus
				}
				for i := uint32(0); i < size; i++ {
					k := i
					if bt.deletable {
						k = rng.Uint32()
					}
					v := make([][3]uint32, per)
					for c := range v {
						v[c] = [3]uint32{rng.Uint32(), k, uint32(c)}
					}
					qt.Assert(t, qt.IsNil(m.Put(k, v)))
				}
				type entry struct {
					K uint32
					V [][3]uint32
				}
				collect := func(batch bool) []entry {
					var out []entry
					var k uint32
					var v [][3]uint32
					it := newMapIterator(m, batch)
					for it.Next(&k, &v) {
						out = append(out, entry{k, append([][3]uint32(nil), v...)})
					}
					qt.Assert(t, qt.IsNil(it.Err()))
					sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
					return out
				}
				batched, walked := collect(true), collect(false)
				if bt.typ != LRUHash && bt.typ != LRUCPUHash {
					// LRU maps may evict before they are full.
					qt.Assert(t, qt.HasLen(batched, int(size)))
				}
				if diff := cmp.Diff(walked, batched); diff != "" {
					t.Fatalf("batched and walked iteration differ (-walk +batch):\n%s", diff)
				}
				// Iterate picks the batched path for these types.
				qt.Assert(t, qt.IsTrue(m.Iterate().batch.enabled))
			})
		}
	}
}

// TestIterateAborted deletes every key the walk returns and inserts a new
// one: the walk restarts each time and gives up after MaxEntries steps.
func TestIterateAborted(t *testing.T) {
	m := newTestMap(t, &MapSpec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 8})
	for k := uint32(0); k < 4; k++ {
		qt.Assert(t, qt.IsNil(m.Put(k, k)))
	}
	it := newMapIterator(m, false)
	var k, v uint32
	next := uint32(100)
	for it.Next(&k, &v) {
		qt.Assert(t, qt.IsNil(m.Delete(k)))
		qt.Assert(t, qt.IsNil(m.Put(next, next)))
		next++
	}
	qt.Assert(t, qt.ErrorIs(it.Err(), ErrIterationAborted))
	qt.Assert(t, qt.ErrorMatches(it.Err(), `map Hash: iterate: iteration aborted after 9 steps .*`))
	qt.Assert(t, qt.IsFalse(it.Next(&k, &v)))
}

// TestIterateFallback makes the batched path meet a kernel that refuses
// batches for the map (a program array): it falls back to the walk.
func TestIterateFallback(t *testing.T) {
	m := newTestMap(t, &MapSpec{Type: ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	prog := mapTestProgram(t, 0)
	qt.Assert(t, qt.IsNil(m.Put(uint32(2), prog)))
	it := newMapIterator(m, true)
	var k, id uint32
	n := 0
	for it.Next(&k, &id) {
		n++
		qt.Assert(t, qt.Equals(k, 2))
	}
	qt.Assert(t, qt.IsNil(it.Err()))
	qt.Assert(t, qt.Equals(n, 1))
	qt.Assert(t, qt.IsFalse(it.batch.enabled))

	// nil outputs skip decoding.
	it = m.Iterate()
	qt.Assert(t, qt.IsTrue(it.Next(nil, nil)))
}

func TestIterateEmptyAndErrors(t *testing.T) {
	m := newTestMap(t, &MapSpec{Name: "it", Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	for _, batch := range []bool{true, false} {
		it := newMapIterator(m, batch)
		var k, v uint32
		qt.Assert(t, qt.IsFalse(it.Next(&k, &v)))
		qt.Assert(t, qt.IsNil(it.Err()))
	}
	qt.Assert(t, qt.IsNil(m.Put(uint32(1), uint32(1))))
	for _, batch := range []bool{true, false} {
		it := newMapIterator(m, batch)
		var k uint64
		var v uint32
		qt.Assert(t, qt.IsFalse(it.Next(&k, &v)))
		qt.Assert(t, qt.ErrorMatches(it.Err(), `map it: iterate: key: \*uint64 is 8 bytes, want 4`))
	}
}
