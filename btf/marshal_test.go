package btf

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
)

// TestMarshalRoundTripVmlinux marshals every type of the kernel's BTF in ID
// order and parses the result: the IDs and the types must be unchanged.
func TestMarshalRoundTripVmlinux(t *testing.T) {
	requireVmlinux(t)
	spec, err := LoadSpec(vmlinuxPath)
	qt.Assert(t, qt.IsNil(err))
	var types []Type
	for typ, err := range spec.All() {
		qt.Assert(t, qt.IsNil(err))
		types = append(types, typ)
	}
	b, err := NewBuilder(types, nil)
	qt.Assert(t, qt.IsNil(err))
	raw, err := b.Marshal(nil, nil)
	qt.Assert(t, qt.IsNil(err))
	spec2, err := LoadSpecFromReader(bytes.NewReader(raw))
	qt.Assert(t, qt.IsNil(err))
	checkSpecsEqual(t, spec, spec2)
}

// checkSpecsEqual compares two specs type by type, by ID.
func checkSpecsEqual(t *testing.T, a, b *Spec) {
	t.Helper()
	n := 0
	for ta, err := range a.All() {
		qt.Assert(t, qt.IsNil(err))
		id, err := a.TypeID(ta)
		qt.Assert(t, qt.IsNil(err))
		tb, err := b.TypeByID(id)
		qt.Assert(t, qt.IsNil(err), qt.Commentf("type id %d", id))
		if !sameFields(ta, tb) {
			t.Fatalf("type id %d differs:\n%2v\n%2v", id, ta, tb)
		}
		ca, cb := childList(ta, nil), childList(tb, nil)
		qt.Assert(t, qt.Equals(len(ca), len(cb)))
		for i := range ca {
			ida, erra := a.TypeID(ca[i])
			idb, errb := b.TypeID(cb[i])
			qt.Assert(t, qt.IsNil(erra))
			qt.Assert(t, qt.IsNil(errb))
			qt.Assert(t, qt.Equals(ida, idb), qt.Commentf("type id %d child %d", id, i))
		}
		n++
	}
	m := 0
	for range b.All() {
		m++
	}
	qt.Assert(t, qt.Equals(m, n))
}

func TestMarshalRoundTripTestdata(t *testing.T) {
	for _, file := range testdataObjects(t) {
		spec, err := LoadSpec(file)
		qt.Assert(t, qt.IsNil(err))
		var types []Type
		for typ, err := range spec.All() {
			qt.Assert(t, qt.IsNil(err))
			types = append(types, typ)
		}
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			b, err := NewBuilder(types, nil)
			qt.Assert(t, qt.IsNil(err))
			raw, err := b.Marshal(nil, &MarshalOptions{Order: bo})
			qt.Assert(t, qt.IsNil(err))
			spec2, err := LoadSpecFromReader(bytes.NewReader(raw))
			qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", file))
			checkSpecsEqual(t, spec, spec2)
		}
	}
}

func TestBuilderIDs(t *testing.T) {
	i32 := &Int{Name: "int", Size: 4, Encoding: Signed}
	s := &Struct{Name: "s", Size: 16}
	s.Members = []Member{
		{Name: "a", Type: i32},
		{Name: "next", Type: &Pointer{Target: s}, Offset: 64},
	}
	var b Builder
	qt.Assert(t, qt.IsTrue(b.Empty()))
	id, err := b.Add(s)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(id, TypeID(1)))
	id, err = b.Add(i32)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(id, TypeID(2)))
	id, err = b.Add(&Void{})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(id, TypeID(0)))
	qt.Assert(t, qt.IsFalse(b.Empty()))

	spec, err := b.Spec()
	qt.Assert(t, qt.IsNil(err))
	var got *Struct
	qt.Assert(t, qt.IsNil(spec.TypeByName("s", &got)))
	qt.Assert(t, qt.IsTrue(sameShape(got, s)))
	qt.Assert(t, qt.Equals(got.Members[1].Type.(*Pointer).Target, Type(got)))
}

func TestBuilderDeclTags(t *testing.T) {
	s := &Struct{Name: "s", Size: 4, Tags: []string{"a"}, Members: []Member{
		{Name: "x", Type: &Int{Name: "int", Size: 4}, Tags: []string{"b", "c"}},
	}}
	fn := &Func{Name: "f", Type: &FuncProto{Return: &Void{}, Params: []FuncParam{{Name: "p", Type: s}}}, Tags: []string{"kfunc"}, ParamTags: [][]string{{"nullable"}}}
	explicit := &DeclTag{Type: s, Value: "a", Index: -1}
	b, err := NewBuilder([]Type{s, explicit, fn}, nil)
	qt.Assert(t, qt.IsNil(err))
	spec, err := b.Spec()
	qt.Assert(t, qt.IsNil(err))
	var got *Struct
	qt.Assert(t, qt.IsNil(spec.TypeByName("s", &got)))
	qt.Assert(t, qt.DeepEquals(got.Tags, []string{"a"}))
	qt.Assert(t, qt.DeepEquals(got.Members[0].Tags, []string{"b", "c"}))
	var gotFn *Func
	qt.Assert(t, qt.IsNil(spec.TypeByName("f", &gotFn)))
	qt.Assert(t, qt.DeepEquals(gotFn.Tags, []string{"kfunc"}))
	qt.Assert(t, qt.DeepEquals(gotFn.ParamTags, [][]string{{"nullable"}}))
	tags := 0
	for typ := range spec.All() {
		if _, ok := typ.(*DeclTag); ok {
			tags++
		}
	}
	qt.Assert(t, qt.Equals(tags, 5))
}

func TestBuilderDeduplicate(t *testing.T) {
	mk := func() *Struct {
		s := &Struct{Name: "list", Size: 8}
		s.Members = []Member{{Name: "next", Type: &Pointer{Target: s}}}
		return s
	}
	a, b := mk(), mk()
	bld, err := NewBuilder([]Type{a, b}, &BuilderOptions{Deduplicate: true})
	qt.Assert(t, qt.IsNil(err))
	ida, _ := bld.Add(a)
	idb, _ := bld.Add(b)
	qt.Assert(t, qt.Equals(ida, idb))
	qt.Assert(t, qt.HasLen(bld.types, 2))

	c := mk()
	c.Size = 16
	idc, err := bld.Add(c)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Not(qt.Equals(idc, ida)))
}

func TestMarshalOptions(t *testing.T) {
	i := &Int{Name: "int", Size: 4, Encoding: Signed}
	fn := &Func{Name: "f", Linkage: GlobalFunc, Type: &FuncProto{Return: &TypeTag{Type: i, Value: "user"}}, Tags: []string{"t"}}
	e64 := &Enum{Name: "big", Size: 8, Values: []EnumValue{{"x", 1 << 40}}}
	e64small := &Enum{Name: "small", Size: 8, Values: []EnumValue{{"y", 1}}}
	b, err := NewBuilder([]Type{fn, e64, e64small}, nil)
	qt.Assert(t, qt.IsNil(err))
	raw, err := b.Marshal(nil, &MarshalOptions{StripFuncLinkage: true, ReplaceDeclTags: true, ReplaceTypeTags: true, ReplaceEnum64: true})
	qt.Assert(t, qt.IsNil(err))
	spec, err := LoadSpecFromReader(bytes.NewReader(raw))
	qt.Assert(t, qt.IsNil(err))
	var got []Type
	for typ, err := range spec.All() {
		qt.Assert(t, qt.IsNil(err))
		got = append(got, typ)
	}
	for _, typ := range got {
		switch v := typ.(type) {
		case *Func:
			qt.Assert(t, qt.Equals(v.Linkage, StaticFunc))
			qt.Assert(t, qt.IsNil(v.Tags))
		case *TypeTag, *DeclTag:
			t.Fatalf("unexpected %v", v)
		case *Enum:
			qt.Assert(t, qt.Equals(v.Name, "small"))
			k, _ := spec.raw.kindOf(mustID(t, spec, v))
			qt.Assert(t, qt.Equals(k, kindEnum))
		}
	}
	var big *Int
	qt.Assert(t, qt.IsNil(spec.TypeByName("big", &big)))
	qt.Assert(t, qt.CmpEquals(big, &Int{Name: "big", Size: 8}, cmp.AllowUnexported()))

	var empty Builder
	raw, err = empty.Marshal(nil, &MarshalOptions{PreventNoTypeFound: true})
	qt.Assert(t, qt.IsNil(err))
	spec, err = LoadSpecFromReader(bytes.NewReader(raw))
	qt.Assert(t, qt.IsNil(err))
	_, err = spec.TypeByID(1)
	qt.Assert(t, qt.IsNil(err))
}

func mustID(t *testing.T, s *Spec, typ Type) TypeID {
	t.Helper()
	id, err := s.TypeID(typ)
	qt.Assert(t, qt.IsNil(err))
	return id
}
