package btf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/go-quicktest/qt"
)

func TestSpecLookups(t *testing.T) {
	i32 := &Int{Name: "int", Size: 4, Encoding: Signed}
	a := &Struct{Name: "dup", Size: 4, Members: []Member{{Name: "x", Type: i32}}}
	b := &Union{Name: "dup", Size: 4}
	flavor := &Struct{Name: "dup___v2", Size: 8}
	fn := &Func{Name: "dup", Type: &FuncProto{Return: i32}}
	tag := &TypeTag{Type: i32, Value: "dup"}
	spec := specOf(t, a, b, flavor, fn, &Pointer{Target: tag})

	var s *Struct
	qt.Assert(t, qt.IsNil(spec.TypeByName("dup", &s)))
	qt.Assert(t, qt.Equals(s.Size, uint32(4)))
	var f *Func
	qt.Assert(t, qt.IsNil(spec.TypeByName("dup", &f)))
	var typ Type = &Union{}
	qt.Assert(t, qt.IsNil(spec.TypeByName("dup", &typ)))
	_, isUnion := typ.(*Union)
	qt.Assert(t, qt.IsTrue(isUnion))

	var e *Enum
	qt.Assert(t, qt.ErrorIs(spec.TypeByName("dup", &e), ErrNotFound))
	qt.Assert(t, qt.ErrorIs(spec.TypeByName("nope", &s), ErrNotFound))
	qt.Assert(t, qt.ErrorMatches(spec.TypeByName("dup", s), ".*is not a Type"))
	qt.Assert(t, qt.ErrorMatches(spec.TypeByName("dup", nil), ".*not a non-nil pointer"))
	var nilType Type
	qt.Assert(t, qt.ErrorMatches(spec.TypeByName("dup", &nilType), ".*nil Type"))
	var notType *int
	qt.Assert(t, qt.ErrorMatches(spec.TypeByName("dup", &notType), ".*is not a Type"))

	all, err := spec.AnyTypesByName("dup")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(all, 3), qt.Commentf("struct, union and func; not the type tag"))
	_, err = spec.AnyTypeByName("dup")
	qt.Assert(t, qt.ErrorIs(err, ErrMultipleMatches))
	one, err := spec.AnyTypeByName("dup___v2")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(one.TypeName(), "dup___v2"))
	_, err = spec.AnyTypesByName("")
	qt.Assert(t, qt.ErrorIs(err, ErrNotFound))

	flavors, err := spec.TypesByName("dup")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(flavors, 3), qt.Commentf("struct, union, flavor"))

	id, err := spec.TypeID(s)
	qt.Assert(t, qt.IsNil(err))
	back, err := spec.TypeByID(id)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(back, Type(s)))
	id, err = spec.TypeID(&Void{})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(id, TypeID(0)))
	_, err = spec.TypeID(&Struct{})
	qt.Assert(t, qt.ErrorIs(err, ErrNotFound))
	_, err = spec.TypeByID(1000)
	qt.Assert(t, qt.ErrorIs(err, ErrNotFound))
	void, err := spec.TypeByID(0)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(kindName(void), "Void"))
}

// Modifications survive Copy, and copies are independent.
func TestSpecCopy(t *testing.T) {
	node := &Struct{Name: "node", Size: 8}
	node.Members = []Member{{Name: "next", Type: &Pointer{Target: node}}}
	spec := specOf(t, node, &Struct{Name: "other", Size: 4})

	var s *Struct
	qt.Assert(t, qt.IsNil(spec.TypeByName("node", &s)))
	s.Size = 16
	cp := spec.Copy()

	var c *Struct
	qt.Assert(t, qt.IsNil(cp.TypeByName("node", &c)))
	qt.Assert(t, qt.Not(qt.Equals(c, s)))
	qt.Assert(t, qt.Equals(c.Size, uint32(16)))
	qt.Assert(t, qt.Equals(c.Members[0].Type.(*Pointer).Target, Type(c)), qt.Commentf("the cycle points into the copy"))
	c.Size = 32
	qt.Assert(t, qt.Equals(s.Size, uint32(16)))

	// Types not decoded before the copy decode lazily in both.
	var o1, o2 *Struct
	qt.Assert(t, qt.IsNil(spec.TypeByName("other", &o1)))
	qt.Assert(t, qt.IsNil(cp.TypeByName("other", &o2)))
	qt.Assert(t, qt.Not(qt.Equals(o1, o2)))
	id, err := cp.TypeID(o2)
	qt.Assert(t, qt.IsNil(err))
	id2, err := spec.TypeID(o1)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(id, id2))

	var nilSpec *Spec
	qt.Assert(t, qt.IsNil(nilSpec.Copy()))
}

func TestSpecBothByteOrders(t *testing.T) {
	types := []Type{&Struct{Name: "s", Size: 8, Members: []Member{
		{Name: "a", Type: &Int{Name: "u16", Size: 2}, BitfieldSize: 3},
		{Name: "b", Type: &Enum{Name: "e", Size: 8, Signed: true, Values: []EnumValue{{"X", uint64(1<<64 - 5)}}}, Offset: 64},
	}}}
	var specs []*Spec
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		b, err := NewBuilder(types, nil)
		qt.Assert(t, qt.IsNil(err))
		raw, err := b.Marshal(nil, &MarshalOptions{Order: bo})
		qt.Assert(t, qt.IsNil(err))
		spec, err := LoadSpecFromReader(bytes.NewReader(raw))
		qt.Assert(t, qt.IsNil(err))
		specs = append(specs, spec)
	}
	checkSpecsEqual(t, specs[0], specs[1])
}

func TestLoadSplitSpec(t *testing.T) {
	base := specOf(t, &Int{Name: "int", Size: 4, Encoding: Signed})
	split := splitSpecOf(t, base, &Typedef{Name: "myint", Type: mustTypeByName[*Int](t, base, "int")})

	// Write the split blob and load it the public way.
	var buf bytes.Buffer
	buf.Write(split.raw.rawBytes())
	file := t.TempDir() + "/split.btf"
	qt.Assert(t, qt.IsNil(os.WriteFile(file, buf.Bytes(), 0o644)))
	spec, err := LoadSplitSpec(file, base)
	qt.Assert(t, qt.IsNil(err))
	var td *Typedef
	qt.Assert(t, qt.IsNil(spec.TypeByName("myint", &td)))
	qt.Assert(t, qt.Equals(td.Type.TypeName(), "int"))
	// Base types resolve by ID but are not the split Spec's own.
	_, err = spec.TypeByID(1)
	qt.Assert(t, qt.IsNil(err))
	var i *Int
	qt.Assert(t, qt.ErrorIs(spec.TypeByName("int", &i), ErrNotFound))
	n := 0
	for range spec.All() {
		n++
	}
	qt.Assert(t, qt.Equals(n, 1))

	_, err = LoadSplitSpecFromReader(bytes.NewReader(buf.Bytes()), nil)
	qt.Assert(t, qt.IsNotNil(err))
}

func TestLoadSpecErrors(t *testing.T) {
	_, err := LoadSpec("testdata/does-not-exist")
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	_, err = LoadSpecFromReader(bytes.NewReader([]byte("hello world, not BTF")))
	qt.Assert(t, qt.ErrorIs(err, errBadMagic))
	_, err = LoadSpecFromReader(bytes.NewReader(nil))
	qt.Assert(t, qt.IsNotNil(err))
}

func TestKernelSpec(t *testing.T) {
	spec, err := LoadKernelSpec()
	if err != nil {
		t.Skip("no kernel BTF:", err)
	}
	spec2, err := LoadKernelSpec()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(spec.raw, spec2.raw), qt.Commentf("the index is shared"))
	var a, b *Struct
	qt.Assert(t, qt.IsNil(spec.TypeByName("task_struct", &a)))
	qt.Assert(t, qt.IsNil(spec2.TypeByName("task_struct", &b)))
	qt.Assert(t, qt.Not(qt.Equals(a, b)), qt.Commentf("decoded types are not"))

	c := NewCache()
	k1, err := c.Kernel()
	qt.Assert(t, qt.IsNil(err))
	k2, err := c.Kernel()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(k1, k2))
	_, err = c.Modules()
	qt.Assert(t, qt.IsNil(err))
	_, err = c.Module("bpfkit_no_such_module")
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	_, err = LoadKernelModuleSpec("../vmlinux")
	qt.Assert(t, qt.IsNotNil(err))
}

func TestFormat(t *testing.T) {
	node := &Struct{Name: "node", Size: 16}
	i32 := &Int{Name: "int", Size: 4, Encoding: Signed}
	node.Members = []Member{
		{Name: "v", Type: i32},
		{Name: "flag", Type: i32, Offset: 32, BitfieldSize: 1},
		{Name: "next", Type: &Pointer{Target: node}, Offset: 64},
	}
	for _, tt := range []struct {
		format string
		typ    Type
		want   string
	}{
		{"%s", node, `Struct:"node"`},
		{"%v", i32, `Int:"int"[signed size=4]`},
		{"%v", node, `Struct:"node"[size=16 members=3 [v flag:1 next]]`},
		{"%2v", node, `Struct:"node"[size=16 members=3 [v@0=Int:"int"[signed size=4] flag:1@32=Int:"int" next@64=Pointer[target=Struct:"node"]]]`},
		{"%v", &Pointer{Target: &Void{}}, `Pointer[target=Void]`},
		{"%v", &FuncProto{Return: i32, Params: []FuncParam{{"a", i32}, {"", &Void{}}}}, `FuncProto[params=(a Int:"int", Void) return=Int:"int"]`},
		{"%v", &Enum{Name: "e", Size: 4, Signed: true, Values: []EnumValue{{"A", 1}}}, `Enum:"e"[size=4 signed values=1]`},
		{"%v", &DeclTag{Type: node, Value: "t", Index: -1}, `DeclTag[value="t" index=-1 type=Struct:"node"]`},
		{"%d", i32, `%!d(*btf.Int)`},
	} {
		qt.Assert(t, qt.Equals(fmt.Sprintf(tt.format, tt.typ), tt.want))
	}
	// A deep format of a cycle terminates.
	qt.Assert(t, qt.Not(qt.Equals(fmt.Sprintf("%100v", node), "")))
	qt.Assert(t, qt.Matches(fmt.Sprintf("%+v", i32), `Int:"int"\(0x[0-9a-f]+\)\[signed size=4\]`))
}

func TestCopyCycles(t *testing.T) {
	a := &Struct{Name: "a"}
	b := &Struct{Name: "b"}
	a.Members = []Member{{Name: "b", Type: &Pointer{Target: b}}}
	b.Members = []Member{{Name: "a", Type: &Pointer{Target: a}}, {Name: "self", Type: &Pointer{Target: b}}}
	cp := Copy(a).(*Struct)
	qt.Assert(t, qt.Not(qt.Equals(cp, a)))
	cb := cp.Members[0].Type.(*Pointer).Target.(*Struct)
	qt.Assert(t, qt.Not(qt.Equals(cb, b)))
	qt.Assert(t, qt.Equals(cb.Members[0].Type.(*Pointer).Target, Type(cp)))
	qt.Assert(t, qt.Equals(cb.Members[1].Type.(*Pointer).Target, Type(cb)))
	qt.Assert(t, qt.IsTrue(sameShape(cp, a)))
	qt.Assert(t, qt.IsNil(Copy(nil)))

	// A transform can change kinds on the way; the rest is copied.
	out := CopyWithTransform(a, func(t Type) Type {
		if _, ok := t.(*Pointer); ok {
			return &Int{Name: "ptr", Size: 8}
		}
		return nil
	}).(*Struct)
	qt.Assert(t, qt.Not(qt.Equals(out, a)))
	qt.Assert(t, qt.Equals(out.Members[0].Type.TypeName(), "ptr"))
	qt.Assert(t, qt.Equals(a.Members[0].Type.TypeName(), ""))
}

func TestSizeofAndHelpers(t *testing.T) {
	i32 := &Int{Name: "int", Size: 4, Encoding: Signed}
	td := &Typedef{Name: "t", Type: &Volatile{Type: &Const{Type: i32}}}
	arr := &Array{Type: &Array{Type: td, Nelems: 3}, Nelems: 2}
	for _, tt := range []struct {
		typ  Type
		size int
	}{
		{i32, 4}, {td, 4}, {arr, 24}, {&Pointer{Target: &Void{}}, 8},
		{&Var{Type: arr}, 24}, {&Array{Type: i32}, 0},
		{&Enum{Size: 8}, 8}, {&Datasec{Size: 3}, 3},
	} {
		size, err := Sizeof(tt.typ)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(size, tt.size))
	}
	for _, bad := range []Type{&Void{}, &Fwd{}, &FuncProto{}, &Array{Type: &Array{Type: i32, Nelems: 1 << 31}, Nelems: 1 << 31}} {
		_, err := Sizeof(bad)
		qt.Assert(t, qt.IsNotNil(err), qt.Commentf("%v", bad))
	}
	loop := &Typedef{Name: "loop"}
	loop.Type = loop
	_, err := Sizeof(loop)
	qt.Assert(t, qt.ErrorIs(err, errTooDeep))

	qt.Assert(t, qt.Equals(UnderlyingType(td), Type(i32)))
	qt.Assert(t, qt.Equals(QualifiedType(&Const{Type: td}), Type(td)))
	got, ok := As[*Int](td)
	qt.Assert(t, qt.IsTrue(ok))
	qt.Assert(t, qt.Equals(got, i32))
	_, ok = As[*Struct](td)
	qt.Assert(t, qt.IsFalse(ok))
	_, ok = As[*Int](loop)
	qt.Assert(t, qt.IsFalse(ok))

	packed := &Struct{Size: 12, Members: []Member{{Name: "a", Type: i32}, {Name: "b", Type: &Int{Size: 8}, Offset: 32}}}
	a, err := alignof(packed)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(a, 1))
	a, err = alignof(&Struct{Size: 16, Members: []Member{{Name: "b", Type: &Int{Size: 8}}}})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(a, 8))

	for name, want := range map[string]string{
		"task_struct": "task_struct", "task_struct___v2": "task_struct",
		"a___b___c": "a___b", "__x": "__x", "a____b": "a____b", "x___": "x___",
	} {
		qt.Assert(t, qt.Equals(essentialName(name), want), qt.Commentf("%s", name))
	}
}

func TestSpecConcurrentUse(t *testing.T) {
	spec, err := LoadKernelSpec()
	if err != nil {
		t.Skip("no kernel BTF:", err)
	}
	cache := NewCache()
	done := make(chan error)
	for g := range 4 {
		go func() {
			var err error
			defer func() { done <- err }()
			k, err := cache.Kernel()
			if err != nil {
				return
			}
			for i, name := range vmlinuxBenchTypes {
				var s *Struct
				if (i+g)%2 == 0 {
					err = spec.TypeByName(name, &s)
				} else {
					err = k.TypeByName(name, &s)
				}
				if err != nil {
					return
				}
				if _, err = spec.TypeID(s); err != nil && (i+g)%2 == 0 {
					return
				}
				err = nil
			}
			var fn *Func
			err = spec.TypeByName("bpf_map_lookup_elem", &fn)
		}()
	}
	for range 4 {
		qt.Assert(t, qt.IsNil(<-done))
	}
}

func TestZeroSpec(t *testing.T) {
	var s Spec
	_, err := s.TypeByID(1)
	qt.Assert(t, qt.ErrorIs(err, ErrNotFound))
	var st *Struct
	qt.Assert(t, qt.ErrorIs(s.TypeByName("x", &st), ErrNotFound))
	_, err = s.AnyTypesByName("x")
	qt.Assert(t, qt.ErrorIs(err, ErrNotFound))
	_, err = s.TypesByName("x")
	qt.Assert(t, qt.ErrorIs(err, ErrNotFound))
	for range s.All() {
		t.Fatal("zero Spec has types")
	}
	qt.Assert(t, qt.IsNotNil(s.Copy()))
	void, err := s.TypeByID(0)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(kindName(void), "Void"))
}
