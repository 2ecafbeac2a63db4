package btf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/go-quicktest/qt"
)

// decodeTestTypes returns a struct "outer" referencing a self-referencing
// struct "inner" and an int, marshaled, and the offset in the blob of the
// type ID of outer's last member.
func decodeTestTypes(tb testing.TB) ([]byte, int) {
	tb.Helper()
	i32 := &Int{Name: "int", Size: 4, Encoding: Signed}
	inner := &Struct{Name: "inner", Size: 16}
	inner.Members = []Member{{Name: "x", Type: i32}, {Name: "self", Type: &Pointer{Target: inner}, Offset: 64}}
	outer := &Struct{Name: "outer", Size: 24, Members: []Member{
		{Name: "a", Type: &Pointer{Target: inner}},
		{Name: "b", Type: i32, Offset: 64},
		{Name: "c", Type: i32, Offset: 96},
	}}
	b, err := NewBuilder([]Type{outer}, nil)
	qt.Assert(tb, qt.IsNil(err))
	raw, err := b.Marshal(nil, &MarshalOptions{Order: binary.LittleEndian})
	qt.Assert(tb, qt.IsNil(err))

	rs, err := newRawSpec(raw, nil)
	qt.Assert(tb, qt.IsNil(err))
	ids := rs.typesByName(classOther, "outer")
	qt.Assert(tb, qt.HasLen(ids, 1))
	_, off, err := rs.locate(ids[0])
	qt.Assert(tb, qt.IsNil(err))
	typeStart := btfHeaderSize + int(binary.LittleEndian.Uint32(raw[btfHeaderTypeOffOff:]))
	return raw, typeStart + int(off) + btfTypeSize + 2*btfMemberSize + btfMemberTypeOff
}

// A request that fails leaves nothing behind: no half-filled shells in the
// cache, and the types it shares with a valid request decode completely.
func TestDecodeRollback(t *testing.T) {
	raw, memberType := decodeTestTypes(t)
	binary.LittleEndian.PutUint32(raw[memberType:], 0xfffff)
	spec, err := LoadSpecFromReader(bytes.NewReader(raw))
	qt.Assert(t, qt.IsNil(err))

	for range 2 {
		var outer *Struct
		err = spec.TypeByName("outer", &outer)
		qt.Assert(t, qt.ErrorIs(err, ErrNotFound))
		qt.Assert(t, qt.StringContains(err.Error(), `(STRUCT "outer"): member 2 ("c"): type id 1048575`))
		qt.Assert(t, qt.Equals(spec.types.n, 0), qt.Commentf("failed request left types in the cache"))
	}

	var inner *Struct
	qt.Assert(t, qt.IsNil(spec.TypeByName("inner", &inner)))
	qt.Assert(t, qt.HasLen(inner.Members, 2))
	qt.Assert(t, qt.Equals(inner.Members[1].Type.(*Pointer).Target, Type(inner)))
	qt.Assert(t, qt.Equals(inner.Members[0].Type.TypeName(), "int"))
}

// Types decoded by one request share blocks: appending to one struct's
// members must not overwrite another's.
func TestDecodeSharedBlocks(t *testing.T) {
	raw, _ := decodeTestTypes(t)
	spec, err := LoadSpecFromReader(bytes.NewReader(raw))
	qt.Assert(t, qt.IsNil(err))
	var outer, inner *Struct
	qt.Assert(t, qt.IsNil(spec.TypeByName("outer", &outer)))
	qt.Assert(t, qt.IsNil(spec.TypeByName("inner", &inner)))
	qt.Assert(t, qt.Equals(outer.Members[0].Type.(*Pointer).Target, Type(inner)))

	before := append([]Member(nil), outer.Members...)
	inner.Members = append(inner.Members, Member{Name: "extra"})
	outer.Members = append(outer.Members, Member{Name: "extra"})
	qt.Assert(t, qt.DeepEquals(outer.Members[:3], before))
	qt.Assert(t, qt.Equals(inner.Members[1].Name, "self"))
}

// LoadSpec of the mapped vmlinux shares one index between calls, but not
// decoded types.
func TestLoadSpecSharesKernelIndex(t *testing.T) {
	if _, ok := mapKernelBTF(vmlinuxPath); !ok {
		t.Skip("kernel BTF cannot be mapped (needs Linux 6.15)")
	}
	a, err := LoadSpec(vmlinuxPath)
	qt.Assert(t, qt.IsNil(err))
	b, err := LoadSpec(vmlinuxPath)
	qt.Assert(t, qt.IsNil(err))
	k, err := LoadKernelSpec()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(a.raw, b.raw))
	qt.Assert(t, qt.Equals(a.raw, k.raw))

	var sa, sb *Struct
	qt.Assert(t, qt.IsNil(a.TypeByName("task_struct", &sa)))
	qt.Assert(t, qt.IsNil(b.TypeByName("task_struct", &sb)))
	qt.Assert(t, qt.Not(qt.Equals(sa, sb)))
	sa.Members[0].Name = "changed"
	qt.Assert(t, qt.Not(qt.Equals(sb.Members[0].Name, "changed")))
	qt.Assert(t, qt.Equals(sa.Name, "task_struct"))
}

// A Spec's slabs never hold more than its BTF: once every type of a test
// object is decoded, one type at a time, nothing is left in them.
func TestSlabsSizedToBlob(t *testing.T) {
	for _, file := range testdataObjects(t) {
		spec, err := LoadSpec(file)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", file))
		for _, err := range spec.All() {
			qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", file))
		}
		a := &spec.slabs
		left := []int{len(a.members), len(a.params), len(a.values), len(a.secinfos),
			len(a.ints), len(a.pointers), len(a.arrays), len(a.structs), len(a.unions), len(a.enums),
			len(a.fwds), len(a.typedefs), len(a.volatiles), len(a.consts), len(a.restricts), len(a.funcs),
			len(a.protos), len(a.vars), len(a.datasecs), len(a.floats), len(a.declTags), len(a.typeTags)}
		qt.Assert(t, qt.DeepEquals(left, make([]int, len(left))), qt.Commentf("%s: unused slab elements", file))
	}
}
