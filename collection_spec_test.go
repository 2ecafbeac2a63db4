package ebpf

import (
	"encoding/binary"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"

	"github.com/bpfkit/ebpf/asm"
)

func testCollectionSpec() *CollectionSpec {
	return &CollectionSpec{
		Maps: map[string]*MapSpec{
			"counts": {Name: "counts", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16,
				Contents: []MapKV{{Key: uint32(1), Value: uint64(2)}}},
			".data": {Name: ".data", Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1,
				Contents: []MapKV{{Key: uint32(0), Value: []byte{1, 2, 3, 4}}},
				InnerMap: &MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}},
		},
		Programs: map[string]*ProgramSpec{
			"prog": {Name: "prog", Type: SocketFilter, License: "GPL", Instructions: asm.Instructions{
				asm.Mov.Imm(asm.R0, 0),
				asm.Return(),
			}},
		},
		Variables: map[string]*VariableSpec{
			"var": {Name: "var", SectionName: ".data", Value: []byte{1, 2, 3, 4}},
		},
		ByteOrder: binary.LittleEndian,
	}
}

func TestCollectionSpecCopy(t *testing.T) {
	cs := testCollectionSpec()
	cpy := cs.Copy()
	qt.Assert(t, qt.CmpEquals(cpy, cs, cmp.Comparer(func(a, b binary.ByteOrder) bool { return a == b })))

	// Changing the copy leaves the original alone.
	cpy.Maps["counts"].MaxEntries = 1
	cpy.Maps[".data"].Contents[0].Value.([]byte)[0] = 0xff
	cpy.Maps[".data"].InnerMap.MaxEntries = 2
	cpy.Programs["prog"].Instructions[0].Constant = 1
	cpy.Variables["var"].Value[0] = 0xff

	qt.Assert(t, qt.Equals(cs.Maps["counts"].MaxEntries, 16))
	qt.Assert(t, qt.Equals(cs.Maps[".data"].Contents[0].Value.([]byte)[0], 1))
	qt.Assert(t, qt.Equals(cs.Maps[".data"].InnerMap.MaxEntries, 1))
	qt.Assert(t, qt.Equals(cs.Programs["prog"].Instructions[0].Constant, 0))
	qt.Assert(t, qt.Equals(cs.Variables["var"].Value[0], 1))

	qt.Assert(t, qt.IsNil((*CollectionSpec)(nil).Copy()))
}

func TestCollectionSpecAssign(t *testing.T) {
	cs := testCollectionSpec()

	type embedded struct {
		Var *VariableSpec `ebpf:"var"`
	}
	var objs struct {
		embedded
		Prog    *ProgramSpec `ebpf:"prog"`
		Counts  *MapSpec     `ebpf:"counts"`
		Ignored int
	}
	qt.Assert(t, qt.IsNil(cs.Assign(&objs)))
	qt.Assert(t, qt.Equals(objs.Prog, cs.Programs["prog"]))
	qt.Assert(t, qt.Equals(objs.Counts, cs.Maps["counts"]))
	qt.Assert(t, qt.Equals(objs.Var, cs.Variables["var"]))

	for _, tc := range []struct {
		name string
		to   any
		err  string
	}{
		{"missing map", &struct {
			M *MapSpec `ebpf:"nope"`
		}{}, `field M: missing map "nope"`},
		{"missing program", &struct {
			P *ProgramSpec `ebpf:"nope"`
		}{}, `field P: missing program "nope"`},
		{"wrong type", &struct {
			P *int `ebpf:"prog"`
		}{}, `field P: unsupported type \*int`},
		{"twice", &struct {
			A *MapSpec `ebpf:"counts"`
			B *MapSpec `ebpf:"counts"`
		}{}, `field B: "counts" is already assigned to field A`},
		{"not a pointer", struct{}{}, `struct {} is not a pointer to a struct`},
		{"unexported", &struct {
			m *MapSpec `ebpf:"counts"`
		}{}, `field m: tagged but not exported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			qt.Assert(t, qt.ErrorMatches(cs.Assign(tc.to), tc.err))
		})
	}

	// A failed Assign leaves every field alone.
	partial := struct {
		M *MapSpec `ebpf:"counts"`
		N *MapSpec `ebpf:"nope"`
	}{}
	qt.Assert(t, qt.IsNotNil(cs.Assign(&partial)))
	qt.Assert(t, qt.IsNil(partial.M))
}

func TestVariableSpecSetGet(t *testing.T) {
	v := &VariableSpec{Name: "x", SectionName: ".rodata", Value: make([]byte, 4)}
	qt.Assert(t, qt.IsTrue(v.Constant()))
	qt.Assert(t, qt.Equals(v.Size(), 4))

	qt.Assert(t, qt.IsNil(v.Set(uint32(0xdeadbeef))))
	var got uint32
	qt.Assert(t, qt.IsNil(v.Get(&got)))
	qt.Assert(t, qt.Equals(got, 0xdeadbeef))

	qt.Assert(t, qt.ErrorMatches(v.Set(uint64(1)), `variable x: .*`))
	qt.Assert(t, qt.IsNil(v.Get(&got)))
	qt.Assert(t, qt.Equals(got, 0xdeadbeef), qt.Commentf("a failed Set leaves the value alone"))

	// Structs, arrays and byte slices of the right size.
	qt.Assert(t, qt.IsNil(v.Set([4]byte{1, 2, 3, 4})))
	qt.Assert(t, qt.DeepEquals(v.Value, []byte{1, 2, 3, 4}))
	qt.Assert(t, qt.IsNil(v.Set(struct{ A, B uint16 }{1, 2})))
	qt.Assert(t, qt.IsNil(v.Set([]byte{9, 9, 9, 9})))
	qt.Assert(t, qt.IsNotNil(v.Set(&struct{ P *int }{})))

	// A variable without a size takes the value's.
	fresh := &VariableSpec{Name: "f"}
	qt.Assert(t, qt.IsNil(fresh.Set(uint16(3))))
	qt.Assert(t, qt.Equals(fresh.Size(), 2))
	var wide uint64
	qt.Assert(t, qt.IsNotNil(v.Get(&wide)))

	qt.Assert(t, qt.IsFalse((&VariableSpec{SectionName: ".data"}).Constant()))
	qt.Assert(t, qt.IsTrue((&VariableSpec{SectionName: ".rodata.cfg"}).Constant()))
	qt.Assert(t, qt.ErrorMatches((&VariableSpec{Name: "y"}).Get(&got), `variable y: no value`))
}
