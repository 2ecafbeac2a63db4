package btf

import (
	"errors"
	"fmt"
	"sync"
)

// This file turns raw types into Go values. The one function in the other
// direction is the Builder's encoder (marshal.go).
//
// Decoding is iterative, not recursive: a chain of a million pointers in a
// hostile file must not exhaust the stack. A type is first allocated as an
// empty shell and entered into the cache, so that references to it,
// including cyclic ones, resolve to the shell; a work list then fills in the
// shells one by one, allocating shells for the types they reference. If
// anything fails, every shell allocated by the request is removed again.

type pendingType struct {
	id  TypeID
	raw *rawSpec
	off uint32
	typ Type
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

type decoder struct {
	s       *Spec
	pending []pendingType
	created []TypeID
}

// decode returns the type id, decoding it and everything it references if
// needed. s.mu must be held.
func (s *Spec) decode(id TypeID) (Type, error) {
	if t := s.types.get(id); t != nil {
		return t, nil
	}
	// The work lists are recycled: one resolution pulls in thousands of
	// types.
	d := decoderPool.Get().(*decoder)
	defer func() {
		d.s = nil
		clear(d.pending[:cap(d.pending)])
		d.pending, d.created = d.pending[:0], d.created[:0]
		decoderPool.Put(d)
	}()
	d.s = s
	t, err := d.ref(id)
	for err == nil && len(d.pending) > 0 {
		p := d.pending[len(d.pending)-1]
		d.pending = d.pending[:len(d.pending)-1]
		err = d.fill(p)
	}
	if err != nil {
		s.types.delAll(d.created)
		return nil, err
	}
	if s.ids != nil {
		for _, id := range d.created {
			s.ids[s.types.get(id)] = id
		}
	}
	return t, nil
}

// ref returns the (possibly still empty) type for id.
func (d *decoder) ref(id TypeID) (Type, error) {
	if t := d.s.types.get(id); t != nil {
		return t, nil
	}
	if id == 0 {
		t := &Void{}
		d.s.types.set(0, t)
		d.created = append(d.created, 0)
		return t, nil
	}
	rs, off, err := d.s.raw.locate(id)
	if err != nil {
		return nil, err
	}
	var t Type
	a := &d.s.slabs
	switch kind := infoKind(rs.order.u32(rs.types[off+btfTypeInfoOff:])); kind {
	case kindInt:
		t = one(&a.ints)
	case kindPtr:
		t = one(&a.pointers)
	case kindArray:
		t = one(&a.arrays)
	case kindStruct:
		t = one(&a.structs)
	case kindUnion:
		t = one(&a.unions)
	case kindEnum, kindEnum64:
		t = one(&a.enums)
	case kindFwd:
		t = &Fwd{}
	case kindTypedef:
		t = one(&a.typedefs)
	case kindVolatile:
		t = &Volatile{}
	case kindConst:
		t = one(&a.consts)
	case kindRestrict:
		t = &Restrict{}
	case kindFunc:
		t = one(&a.funcs)
	case kindFuncProto:
		t = one(&a.protos)
	case kindVar:
		t = one(&a.vars)
	case kindDatasec:
		t = &Datasec{}
	case kindFloat:
		t = &Float{}
	case kindDeclTag:
		t = &DeclTag{}
	case kindTypeTag:
		t = &TypeTag{}
	default:
		return nil, fmt.Errorf("type id %d: unsupported kind %s", id, kind)
	}
	d.s.types.set(id, t)
	d.created = append(d.created, id)
	d.pending = append(d.pending, pendingType{id, rs, off, t})
	return t, nil
}

var errVlen = errors.New("vlen must be zero")

// fill decodes the raw type behind p into p.typ.
func (d *decoder) fill(p pendingType) error {
	rs := p.raw
	rt := rs.at(p.off)
	name, err := rs.strings.lookup(rt.nameOff)
	if err != nil {
		return fmt.Errorf("type id %d (%s): name: %w", p.id, rt.kind(), err)
	}
	if err := d.fillKind(p, rs, &rt, name); err != nil {
		if name == "" {
			return fmt.Errorf("type id %d (%s): %w", p.id, rt.kind(), err)
		}
		return fmt.Errorf("type id %d (%s %q): %w", p.id, rt.kind(), name, err)
	}
	return nil
}

func (d *decoder) fillKind(p pendingType, rs *rawSpec, rt *rawType, name string) error {
	o := rs.order
	ref := func(id uint32, what string) (Type, error) {
		t, err := d.ref(TypeID(id))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return t, nil
	}
	var err error
	switch t := p.typ.(type) {
	case *Int:
		v := o.u32(rt.data)
		t.Name, t.Size, t.Encoding = name, rt.sizeType, intEncoding(v)

	case *Pointer:
		t.Target, err = ref(rt.sizeType, "target")

	case *Array:
		t.Nelems = o.u32(rt.data[btfArrayNelemsOff:])
		if t.Type, err = ref(o.u32(rt.data[btfArrayTypeOff:]), "element type"); err != nil {
			return err
		}
		t.Index, err = ref(o.u32(rt.data[btfArrayIndexTypeOff:]), "index type")

	case *Struct:
		t.Name, t.Size = name, rt.sizeType
		if t.Members, err = d.members(rs, rt); err != nil {
			return err
		}
		t.Tags, err = d.tags(p.id, len(t.Members), func(i int, v string) { t.Members[i].Tags = append(t.Members[i].Tags, v) })

	case *Union:
		t.Name, t.Size = name, rt.sizeType
		if t.Members, err = d.members(rs, rt); err != nil {
			return err
		}
		t.Tags, err = d.tags(p.id, len(t.Members), func(i int, v string) { t.Members[i].Tags = append(t.Members[i].Tags, v) })

	case *Enum:
		t.Name, t.Size, t.Signed = name, rt.sizeType, rt.flag()
		t.Values, err = d.enumValues(rs, rt)

	case *Fwd:
		t.Name, t.Kind = name, FwdStruct
		if rt.flag() {
			t.Kind = FwdUnion
		}

	case *Typedef:
		t.Name = name
		if t.Type, err = ref(rt.sizeType, "type"); err != nil {
			return err
		}
		t.Tags, err = d.tags(p.id, 0, nil)

	case *Volatile:
		t.Type, err = ref(rt.sizeType, "type")
	case *Const:
		t.Type, err = ref(rt.sizeType, "type")
	case *Restrict:
		t.Type, err = ref(rt.sizeType, "type")

	case *Func:
		t.Name, t.Linkage = name, FuncLinkage(rt.vlen())
		if t.Type, err = ref(rt.sizeType, "type"); err != nil {
			return err
		}
		return d.funcTags(p.id, t, TypeID(rt.sizeType))

	case *FuncProto:
		if t.Return, err = ref(rt.sizeType, "return type"); err != nil {
			return err
		}
		t.Params, err = d.params(rs, rt)

	case *Var:
		if rt.vlen() != 0 {
			return errVlen
		}
		t.Name, t.Linkage = name, VarLinkage(o.u32(rt.data[btfVarLinkageOff:]))
		if t.Type, err = ref(rt.sizeType, "type"); err != nil {
			return err
		}
		t.Tags, err = d.tags(p.id, 0, nil)

	case *Datasec:
		t.Name, t.Size = name, rt.sizeType
		if t.Vars, err = d.secinfos(rs, rt); err != nil {
			return err
		}
		if rs.datasecs != nil {
			err = rs.datasecs.fixup(t, rs.strings)
		}

	case *Float:
		t.Name, t.Size = name, rt.sizeType

	case *DeclTag:
		t.Value = name
		t.Index = int(int32(o.u32(rt.data[btfDeclTagComponentIdxOff:])))
		t.Type, err = ref(rt.sizeType, "target")

	case *TypeTag:
		t.Value = name
		t.Type, err = ref(rt.sizeType, "type")

	default:
		return fmt.Errorf("internal error: unexpected %T", t)
	}
	return err
}

func (d *decoder) members(rs *rawSpec, rt *rawType) ([]Member, error) {
	n := rt.vlen()
	if n == 0 {
		return nil, nil
	}
	ms := many(&d.s.slabs.members, n)
	o := rs.order
	for i := range ms {
		b := rt.data[i*btfMemberSize:]
		name, err := rs.strings.lookup(o.u32(b[btfMemberNameOffOff:]))
		if err != nil {
			return nil, fmt.Errorf("member %d: name: %w", i, err)
		}
		typ, err := d.ref(TypeID(o.u32(b[btfMemberTypeOff:])))
		if err != nil {
			return nil, fmt.Errorf("member %d (%q): %w", i, name, err)
		}
		off := o.u32(b[btfMemberOffsetOff:])
		// Field by field: the slab is zeroed, and storing a whole Member
		// costs a bulk write barrier while the GC runs.
		m := &ms[i]
		m.Name, m.Type = name, typ
		if rt.flag() {
			m.Offset, m.BitfieldSize = memberBitOffset(off), memberBitfieldSize(off)
		} else {
			m.Offset = Bits(off)
		}
	}
	return ms, nil
}

func (d *decoder) enumValues(rs *rawSpec, rt *rawType) ([]EnumValue, error) {
	n := rt.vlen()
	if n == 0 {
		return nil, nil
	}
	vs := many(&d.s.slabs.values, n)
	o := rs.order
	wide := rt.kind() == kindEnum64
	for i := range vs {
		var nameOff uint32
		var v uint64
		if wide {
			b := rt.data[i*btfEnum64Size:]
			nameOff = o.u32(b[btfEnum64NameOffOff:])
			v = uint64(o.u32(b[btfEnum64ValHi32Off:]))<<32 | uint64(o.u32(b[btfEnum64ValLo32Off:]))
		} else {
			b := rt.data[i*btfEnumSize:]
			nameOff = o.u32(b[btfEnumNameOffOff:])
			raw := o.u32(b[btfEnumValOff:])
			v = uint64(raw)
			if rt.flag() {
				v = uint64(int64(int32(raw)))
			}
		}
		name, err := rs.strings.lookup(nameOff)
		if err != nil {
			return nil, fmt.Errorf("value %d: name: %w", i, err)
		}
		vs[i].Name, vs[i].Value = name, v
	}
	return vs, nil
}

func (d *decoder) params(rs *rawSpec, rt *rawType) ([]FuncParam, error) {
	n := rt.vlen()
	if n == 0 {
		return nil, nil
	}
	ps := many(&d.s.slabs.params, n)
	o := rs.order
	for i := range ps {
		b := rt.data[i*btfParamSize:]
		name, err := rs.strings.lookup(o.u32(b[btfParamNameOffOff:]))
		if err != nil {
			return nil, fmt.Errorf("param %d: name: %w", i, err)
		}
		typ, err := d.ref(TypeID(o.u32(b[btfParamTypeOff:])))
		if err != nil {
			return nil, fmt.Errorf("param %d (%q): %w", i, name, err)
		}
		ps[i].Name, ps[i].Type = name, typ
	}
	return ps, nil
}

func (d *decoder) secinfos(rs *rawSpec, rt *rawType) ([]VarSecinfo, error) {
	n := rt.vlen()
	if n == 0 {
		return nil, nil
	}
	vs := make([]VarSecinfo, n)
	o := rs.order
	for i := range vs {
		b := rt.data[i*btfVarSecinfoSize:]
		typ, err := d.ref(TypeID(o.u32(b[btfVarSecinfoTypeOff:])))
		if err != nil {
			return nil, fmt.Errorf("variable %d: %w", i, err)
		}
		vs[i] = VarSecinfo{Type: typ, Offset: o.u32(b[btfVarSecinfoOffsetOff:]), Size: o.u32(b[btfVarSecinfoSizeOff:])}
	}
	return vs, nil
}

// declTag reads the value and component index of the DECL_TAG id.
func (d *decoder) declTag(id TypeID) (string, int, error) {
	rs, off, err := d.s.raw.locate(id)
	if err != nil {
		return "", 0, err
	}
	rt := rs.at(off)
	value, err := rs.strings.lookup(rt.nameOff)
	if err != nil {
		return "", 0, fmt.Errorf("decl tag %d: %w", id, err)
	}
	return value, int(int32(rs.order.u32(rt.data[btfDeclTagComponentIdxOff:]))), nil
}

// tags returns the values of the decl tags on type id itself and passes
// those on its components (members) to component. n is the number of
// components.
func (d *decoder) tags(id TypeID, n int, component func(int, string)) ([]string, error) {
	ids := d.s.raw.tagsFor(id)
	var own []string
	for _, tid := range ids {
		value, idx, err := d.declTag(tid)
		if err != nil {
			return nil, err
		}
		switch {
		case idx == -1:
			own = append(own, value)
		case idx >= 0 && idx < n && component != nil:
			component(idx, value)
		default:
			return nil, fmt.Errorf("decl tag %d: component index %d out of range", tid, idx)
		}
	}
	return own, nil
}

func (d *decoder) funcTags(id TypeID, fn *Func, proto TypeID) error {
	if len(d.s.raw.tagsFor(id)) == 0 {
		return nil
	}
	params := 0
	if rs, off, err := d.s.raw.locate(proto); err == nil {
		if rt := rs.at(off); rt.kind() == kindFuncProto {
			params = rt.vlen()
		}
	}
	var err error
	fn.Tags, err = d.tags(id, params, func(i int, v string) {
		if fn.ParamTags == nil {
			fn.ParamTags = make([][]string, params)
		}
		fn.ParamTags[i] = append(fn.ParamTags[i], v)
	})
	return err
}
