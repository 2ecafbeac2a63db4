package ebpf

import (
	"reflect"
	"structs"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/internal/testutils"
)

func loadGlobals(t testing.TB, prepare func(spec *CollectionSpec)) *Collection {
	t.Helper()
	spec := loadTestSpec(t, "globals")
	if prepare != nil {
		prepare(spec)
	}
	coll, err := NewCollection(spec)
	qt.Assert(t, qt.IsNil(err))
	return coll
}

func TestVariableGet(t *testing.T) {
	testutils.RequireRoot(t)
	coll := loadGlobals(t, nil)
	defer coll.Close()

	type pair struct {
		A uint16
		B int16
	}
	var (
		u64   uint64
		u32   uint32
		bytes [5]byte
		p     pair
		str   [8]byte
		u16   uint16
	)
	for _, test := range []struct {
		name     string
		out      any
		want     any
		size     uint32
		readOnly bool
	}{
		{"data_u64", &u64, uint64(0x0102030405060708), 8, false},
		{"data_u32", &u32, uint32(42), 4, false},
		{"data_bytes", &bytes, [5]byte{1, 2, 3, 4, 5}, 5, false},
		{"data_pair", &p, pair{7, -7}, 4, false},
		{"rodata_u64", &u64, uint64(0x1122334455667788), 8, true},
		{"rodata_str", &str, [8]byte{'a', 'b', 'c'}, 8, true},
		{"custom_ro_u16", &u16, uint16(0xbeef), 2, true},
		{"custom_u32", &u32, uint32(0xcafe), 4, false},
		{"bss_u64", &u64, uint64(0), 8, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			v := coll.Variables[test.name]
			qt.Assert(t, qt.IsNotNil(v))
			qt.Assert(t, qt.Equals(v.Size(), test.size))
			qt.Assert(t, qt.Equals(v.ReadOnly(), test.readOnly))
			qt.Assert(t, qt.IsNotNil(v.Type()))
			qt.Assert(t, qt.Equals(v.Type().Name, test.name))
			qt.Assert(t, qt.IsNil(v.Get(test.out)))
			qt.Assert(t, qt.Equals(derefAny(test.out), test.want))
		})
	}

	// A buffer of the wrong size is refused.
	qt.Assert(t, qt.IsNotNil(coll.Variables["data_u32"].Get(&u64)))
	qt.Assert(t, qt.IsNotNil(coll.Variables["data_u32"].Get(make([]byte, 3))))
}

func derefAny(v any) any {
	return reflect.ValueOf(v).Elem().Interface()
}

func TestVariableSet(t *testing.T) {
	testutils.RequireRoot(t)
	coll := loadGlobals(t, func(spec *CollectionSpec) {
		// VariableSpecs set before loading are the initial values.
		qt.Assert(t, qt.IsNil(spec.Variables["data_u32"].Set(uint32(7))))
		qt.Assert(t, qt.IsNil(spec.Variables["ret_value"].Set(uint32(99))))
	})
	v := coll.Variables["data_u32"]
	var u32 uint32
	qt.Assert(t, qt.IsNil(v.Get(&u32)))
	qt.Assert(t, qt.Equals(u32, 7))
	qt.Assert(t, qt.Equals(testRun(t, coll, "read_globals", collPacket), 99))

	// Programs see what Set writes at once, and Get what they write.
	qt.Assert(t, qt.IsNil(v.Set(uint32(100))))
	qt.Assert(t, qt.Equals(testRun(t, coll, "read_globals", collPacket), 99))
	var arr [4]uint32
	qt.Assert(t, qt.IsNil(coll.Variables["bss_arr"].Get(&arr)))
	qt.Assert(t, qt.Equals(arr[1], 101))
	qt.Assert(t, qt.IsNil(v.Get(&u32)))
	qt.Assert(t, qt.Equals(u32, 101))

	// Sizes must match; []byte works too.
	qt.Assert(t, qt.IsNotNil(v.Set(uint64(1))))
	qt.Assert(t, qt.IsNotNil(v.Set(uint16(1))))
	qt.Assert(t, qt.IsNil(coll.Variables["data_bytes"].Set([]byte{9, 8, 7, 6, 5})))
	buf := make([]byte, 5)
	qt.Assert(t, qt.IsNil(coll.Variables["data_bytes"].Get(buf)))
	qt.Assert(t, qt.DeepEquals(buf, []byte{9, 8, 7, 6, 5}))

	// .rodata is frozen: the verifier relied on its values.
	qt.Assert(t, qt.ErrorIs(coll.Variables["ret_value"].Set(uint32(1)), ErrReadOnly))
	qt.Assert(t, qt.ErrorIs(coll.Variables["custom_ro_u16"].Set(uint16(1)), ErrReadOnly))

	// Variables outlive the collection: the mapping holds the map.
	coll.Close()
	qt.Assert(t, qt.IsNil(v.Set(uint32(5))))
	qt.Assert(t, qt.IsNil(v.Get(&u32)))
	qt.Assert(t, qt.Equals(u32, 5))
}

func TestVariableWithoutMemory(t *testing.T) {
	// Where data sections can't be mapped (before 5.5) a Variable exists
	// but can't be used.
	v, err := newVariable("old", 0, 4, nil, nil)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(v.ReadOnly()))
	var u32 uint32
	qt.Assert(t, qt.ErrorIs(v.Get(&u32), ErrNotSupported))
	qt.Assert(t, qt.ErrorIs(v.Set(u32), ErrNotSupported))
	_, err = VariablePointer[uint32](v)
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
	qt.Assert(t, qt.IsNil(v.Type()))
	qt.Assert(t, qt.Equals(v.String(), "old (type=<nil>, offset=0, size=4)"))
}

func TestVariableOutOfBounds(t *testing.T) {
	testutils.RequireRoot(t)
	m, err := NewMap(&MapSpec{Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: 1 << 10}) // BPF_F_MMAPABLE
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	defer m.Close()
	mm, err := m.Memory()
	qt.Assert(t, qt.IsNil(err))
	_, err = newVariable("far", mm.Size()-2, 4, nil, mm)
	qt.Assert(t, qt.IsNotNil(err))
	v, err := newVariable("near", 0, 8, nil, mm)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsNil(v.Set(uint64(3))))
	var u64 uint64
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(0), &u64)))
	qt.Assert(t, qt.Equals(u64, 3))
}

func TestVariablePointer(t *testing.T) {
	testutils.RequireRoot(t)
	coll := loadGlobals(t, nil)
	defer coll.Close()

	type hostPair struct {
		_ structs.HostLayout
		A uint16
		B int16
	}
	pair, err := VariablePointer[hostPair](coll.Variables["data_pair"])
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(*pair, hostPair{A: 7, B: -7}))
	pair.B = 3
	var got hostPair
	qt.Assert(t, qt.IsNil(coll.Variables["data_pair"].Get(&got)))
	qt.Assert(t, qt.Equals(got, hostPair{A: 7, B: 3}))

	// The program increments data_u32 and copies it to bss_arr[1]: both
	// sides see each other's writes.
	p, err := VariablePointer[uint32](coll.Variables["data_u32"])
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(*p, 42))
	*p = 100
	qt.Assert(t, qt.Equals(testRun(t, coll, "read_globals", collPacket), 7))
	qt.Assert(t, qt.Equals(*p, 101))
	arr, err := VariablePointer[[4]uint32](coll.Variables["bss_arr"])
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(arr[1], 101))
	qt.Assert(t, qt.IsNil(coll.Variables["data_u32"].Set(uint32(7))))
	qt.Assert(t, qt.Equals(*p, 7))

	_, err = VariablePointer[uint64](coll.Variables["data_u32"])
	qt.Assert(t, qt.ErrorIs(err, ErrInvalidType))
	_, err = VariablePointer[*uint32](coll.Variables["bss_u64"])
	qt.Assert(t, qt.ErrorIs(err, ErrInvalidType))
	_, err = VariablePointer[struct{ P *uint32 }](coll.Variables["bss_u64"])
	qt.Assert(t, qt.ErrorIs(err, ErrInvalidType))
	_, err = VariablePointer[uint32](coll.Variables["ret_value"])
	qt.Assert(t, qt.ErrorIs(err, ErrReadOnly))
}

func BenchmarkVariable(b *testing.B) {
	testutils.RequireRoot(b)
	coll := loadGlobals(b, nil)
	defer coll.Close()
	v := coll.Variables["data_u64"]

	b.Run("Set", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := v.Set(uint64(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		var out uint64
		for b.Loop() {
			if err := v.Get(&out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
