package btf

import (
	"errors"
	"fmt"
	"sync"
)

// This file turns raw types into Go values. The one function in the other
// direction is the Builder's encoder (marshal.go).
//
// A request (one TypeByID, or one type found by name) decodes the type and
// everything it references that the Spec has not decoded yet, in three
// passes over the raw bytes:
//
//  1. discover walks the references breadth-first and lists every type to
//     decode, reading only headers and referenced IDs;
//  2. allocate counts the list by kind and takes all shells and element
//     slices (members, parameters, enumerators) for the request from a few
//     exactly sized blocks, then enters the shells into the cache;
//  3. fill decodes each listed type into its shell; references resolve to
//     cached shells, cycles included.
//
// Nothing recurses, so a chain of a million pointers in a hostile file
// cannot exhaust the stack. Discovery skips a reference it cannot resolve
// (a bad ID, an unknown kind); fill meets it again and fails with the
// context of the referring type. If anything fails, every shell of the
// request is removed from the cache again.
//
// Resolving task_struct decodes about 6,000 types with 14,000 members. Two
// dozen allocations hold them, sized to what the request needs: the cost of
// a decode is then mostly the members, whose layout the API fixes.

// pendingType is one type of a request: its ID and its offset in the
// blob holding it. A request lists thousands, so this stays small.
type pendingType struct {
	id  TypeID
	off uint32
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

type decoder struct {
	s *Spec
	// found lists the types of the request in discovery order.
	found []pendingType
	// seen has a bit for each ID in found.
	seen []uint64
	// Element slices for the request, cut off as fill needs them.
	memberBuf  []Member
	paramBuf   []FuncParam
	valueBuf   []EnumValue
	secinfoBuf []VarSecinfo
}

// decode returns the type id, decoding it and everything it references if
// needed. s.mu must be held.
func (s *Spec) decode(id TypeID) (Type, error) {
	if t := s.types.get(id); t != nil {
		return t, nil
	}
	d := decoderPool.Get().(*decoder)
	defer d.release()
	d.s = s
	if !d.visit(id) {
		return nil, d.badRef(id)
	}
	if err := d.run(); err != nil {
		return nil, err
	}
	return s.types.get(id), nil
}

// decodeAll decodes the types ids and everything they reference in one
// request: one set of blocks and one growth of the cache instead of one per
// type. If any of them fails, none is decoded; callers that want to know
// which one decode them one by one. s.mu must be held.
func (s *Spec) decodeAll(ids []TypeID) error {
	d := decoderPool.Get().(*decoder)
	defer d.release()
	d.s = s
	for _, id := range ids {
		if !d.visit(id) {
			return d.badRef(id)
		}
	}
	return d.run()
}

// run decodes the types visited so far and everything they reference.
func (d *decoder) run() error {
	s := d.s
	for i := 0; i < len(d.found); i++ {
		d.visitRefs(d.found[i])
	}
	if len(d.found) == 0 {
		return nil
	}
	sh := d.allocate()
	for _, p := range d.found {
		if err := d.fill(p, &sh); err != nil {
			ids := make([]TypeID, len(d.found))
			for i, p := range d.found {
				ids[i] = p.id
			}
			s.types.delAll(ids)
			return err
		}
	}
	if s.ids != nil {
		for _, p := range d.found {
			s.ids[s.types.get(p.id)] = p.id
		}
	}
	return nil
}

// release clears d, keeping its lists, and returns it to the pool.
func (d *decoder) release() {
	for _, p := range d.found {
		d.seen[p.id/64] = 0
	}
	d.found = d.found[:0]
	d.s = nil
	d.memberBuf, d.paramBuf, d.valueBuf, d.secinfoBuf = nil, nil, nil, nil
	decoderPool.Put(d)
}

// blob returns the raw spec holding id, which must be valid.
func (d *decoder) blob(id TypeID) *rawSpec {
	r := d.s.raw
	for id < r.firstID {
		r = r.base
	}
	return r
}

// info returns the btf_type info word of p (kind, vlen, kind flag); 0 for
// Void, which is not in a blob.
func (d *decoder) info(p pendingType) (*rawSpec, uint32) {
	if p.id == 0 {
		return nil, 0
	}
	rs := d.blob(p.id)
	return rs, rs.order.u32(rs.types[p.off+btfTypeInfoOff:])
}

// visit adds id to the request unless it is decoded, listed already or
// cannot be decoded. It returns false for the last case.
func (d *decoder) visit(id TypeID) bool {
	if int(id/64) < len(d.seen) && d.seen[id/64]&(1<<(id%64)) != 0 {
		return true
	}
	if d.s.types.get(id) != nil {
		return true
	}
	p := pendingType{id: id}
	if id != 0 {
		rs, off, err := d.s.raw.locate(id)
		if err != nil {
			return false
		}
		if goTagOf(infoKind(rs.order.u32(rs.types[off+btfTypeInfoOff:]))) == 0 {
			return false
		}
		p.off = off
	}
	if int(id/64) >= len(d.seen) {
		// Sized for every ID of the Spec, so this happens once per
		// decoder and Spec size.
		n := int(id/64) + 1
		if d.s.raw != nil {
			n = max(n, int(d.s.raw.nextID()/64)+1)
		}
		d.seen = append(d.seen, make([]uint64, n-len(d.seen))...)
	}
	d.seen[id/64] |= 1 << (id % 64)
	d.found = append(d.found, p)
	return true
}

// visitRefs visits the types that p references.
func (d *decoder) visitRefs(p pendingType) {
	rs, info := d.info(p)
	if rs == nil {
		return
	}
	o := rs.order
	// The index checked that the type fits the section: no need to cut
	// data to the type's length.
	b := rs.types[p.off:]
	data := b[btfTypeSize:]
	vlen := infoVlen(info)
	switch infoKind(info) {
	case kindPtr, kindTypedef, kindVolatile, kindConst, kindRestrict, kindFunc, kindVar, kindDeclTag, kindTypeTag:
		d.visit(TypeID(o.u32(b[btfTypeTypeOff:])))
	case kindArray:
		d.visit(TypeID(o.u32(data[btfArrayTypeOff:])))
		d.visit(TypeID(o.u32(data[btfArrayIndexTypeOff:])))
	case kindStruct, kindUnion:
		for j := range vlen {
			d.visit(TypeID(o.u32(data[j*btfMemberSize+btfMemberTypeOff:])))
		}
	case kindFuncProto:
		d.visit(TypeID(o.u32(b[btfTypeTypeOff:])))
		for j := range vlen {
			d.visit(TypeID(o.u32(data[j*btfParamSize+btfParamTypeOff:])))
		}
	case kindDatasec:
		for j := range vlen {
			d.visit(TypeID(o.u32(data[j*btfVarSecinfoSize+btfVarSecinfoTypeOff:])))
		}
	}
}

// goTagOf returns the Go type that kind decodes to, 0 if it is not
// supported.
func goTagOf(kind btfKind) goTag {
	if int(kind) < len(kindTags) {
		return kindTags[kind]
	}
	return 0
}

var kindTags = [...]goTag{
	kindInt:       tagInt,
	kindPtr:       tagPointer,
	kindArray:     tagArray,
	kindStruct:    tagStruct,
	kindUnion:     tagUnion,
	kindEnum:      tagEnum,
	kindEnum64:    tagEnum,
	kindFwd:       tagFwd,
	kindTypedef:   tagTypedef,
	kindVolatile:  tagVolatile,
	kindConst:     tagConst,
	kindRestrict:  tagRestrict,
	kindFunc:      tagFunc,
	kindFuncProto: tagFuncProto,
	kindVar:       tagVar,
	kindDatasec:   tagDatasec,
	kindFloat:     tagFloat,
	kindDeclTag:   tagDeclTag,
	kindTypeTag:   tagTypeTag,
}

// shells are the zeroed Go values of a request, by kind.
type shells struct {
	ints      []Int
	pointers  []Pointer
	arrays    []Array
	structs   []Struct
	unions    []Union
	enums     []Enum
	fwds      []Fwd
	typedefs  []Typedef
	volatiles []Volatile
	consts    []Const
	restricts []Restrict
	funcs     []Func
	protos    []FuncProto
	vars      []Var
	datasecs  []Datasec
	floats    []Float
	declTags  []DeclTag
	typeTags  []TypeTag
}

// next removes the first shell of the Go type tag from sh.
func (sh *shells) next(tag goTag) Type {
	switch tag {
	case tagInt:
		return next(&sh.ints)
	case tagPointer:
		return next(&sh.pointers)
	case tagArray:
		return next(&sh.arrays)
	case tagStruct:
		return next(&sh.structs)
	case tagUnion:
		return next(&sh.unions)
	case tagEnum:
		return next(&sh.enums)
	case tagFwd:
		return next(&sh.fwds)
	case tagTypedef:
		return next(&sh.typedefs)
	case tagVolatile:
		return next(&sh.volatiles)
	case tagConst:
		return next(&sh.consts)
	case tagRestrict:
		return next(&sh.restricts)
	case tagFunc:
		return next(&sh.funcs)
	case tagFuncProto:
		return next(&sh.protos)
	case tagVar:
		return next(&sh.vars)
	case tagDatasec:
		return next(&sh.datasecs)
	case tagFloat:
		return next(&sh.floats)
	case tagDeclTag:
		return next(&sh.declTags)
	case tagTypeTag:
		return next(&sh.typeTags)
	}
	panic("btf: no shell for Go type tag")
}

// allocate takes the shells and element slices of the request from the
// Spec's slabs and enters the shells into the cache. It returns the shells
// in the order of found, for fill to take again.
func (d *decoder) allocate() shells {
	var counts [tagTypeTag + 1]int
	var members, params, values, secinfos int
	for _, p := range d.found {
		_, info := d.info(p)
		if p.id == 0 {
			continue
		}
		tag := goTagOf(infoKind(info))
		counts[tag]++
		switch tag {
		case tagStruct, tagUnion:
			members += infoVlen(info)
		case tagFuncProto:
			params += infoVlen(info)
		case tagEnum:
			values += infoVlen(info)
		case tagDatasec:
			secinfos += infoVlen(info)
		}
	}
	a := &d.s.slabs
	if !a.counted {
		a.left, a.counted = d.s.raw.budget(), true
	}
	l := &a.left
	d.memberBuf = many(&a.members, members, slabElements, &l.members)
	d.paramBuf = many(&a.params, params, slabElements, &l.params)
	d.valueBuf = many(&a.values, values, slabElements, &l.values)
	d.secinfoBuf = many(&a.secinfos, secinfos, slabElements, &l.secinfos)
	all := shells{
		ints:      many(&a.ints, counts[tagInt], slabTypes, &l.shells[tagInt]),
		pointers:  many(&a.pointers, counts[tagPointer], slabTypes, &l.shells[tagPointer]),
		arrays:    many(&a.arrays, counts[tagArray], slabTypes, &l.shells[tagArray]),
		structs:   many(&a.structs, counts[tagStruct], slabTypes, &l.shells[tagStruct]),
		unions:    many(&a.unions, counts[tagUnion], slabTypes, &l.shells[tagUnion]),
		enums:     many(&a.enums, counts[tagEnum], slabTypes, &l.shells[tagEnum]),
		fwds:      many(&a.fwds, counts[tagFwd], slabTypes, &l.shells[tagFwd]),
		typedefs:  many(&a.typedefs, counts[tagTypedef], slabTypes, &l.shells[tagTypedef]),
		volatiles: many(&a.volatiles, counts[tagVolatile], slabTypes, &l.shells[tagVolatile]),
		consts:    many(&a.consts, counts[tagConst], slabTypes, &l.shells[tagConst]),
		restricts: many(&a.restricts, counts[tagRestrict], slabTypes, &l.shells[tagRestrict]),
		funcs:     many(&a.funcs, counts[tagFunc], slabTypes, &l.shells[tagFunc]),
		protos:    many(&a.protos, counts[tagFuncProto], slabTypes, &l.shells[tagFuncProto]),
		vars:      many(&a.vars, counts[tagVar], slabTypes, &l.shells[tagVar]),
		datasecs:  many(&a.datasecs, counts[tagDatasec], slabTypes, &l.shells[tagDatasec]),
		floats:    many(&a.floats, counts[tagFloat], slabTypes, &l.shells[tagFloat]),
		declTags:  many(&a.declTags, counts[tagDeclTag], slabTypes, &l.shells[tagDeclTag]),
		typeTags:  many(&a.typeTags, counts[tagTypeTag], slabTypes, &l.shells[tagTypeTag]),
	}
	d.s.types.reserve(len(d.found))
	sh := all
	for _, p := range d.found {
		if p.id == 0 {
			d.s.types.set(0, &Void{})
			continue
		}
		_, info := d.info(p)
		d.s.types.set(p.id, sh.next(goTagOf(infoKind(info))))
	}
	return all
}

// ref returns the shell of a type that the request references. Discovery
// listed every type it could decode, so a miss is an error.
func (d *decoder) ref(id TypeID) (Type, error) {
	if t := d.s.types.get(id); t != nil {
		return t, nil
	}
	return nil, d.badRef(id)
}

// badRef explains why id cannot be decoded.
func (d *decoder) badRef(id TypeID) error {
	rs, off, err := d.s.raw.locate(id)
	if err != nil {
		return err
	}
	return fmt.Errorf("type id %d: unsupported kind %s", id, infoKind(rs.order.u32(rs.types[off+btfTypeInfoOff:])))
}

var errVlen = errors.New("vlen must be zero")

// fill decodes p into the next shell of its kind from sh.
func (d *decoder) fill(p pendingType, sh *shells) error {
	if p.id == 0 {
		return nil
	}
	rs := d.blob(p.id)
	rt := rs.at(p.off)
	typ := sh.next(goTagOf(rt.kind()))
	name, err := rs.strings.lookup(rt.nameOff)
	if err != nil {
		return fmt.Errorf("type id %d (%s): name: %w", p.id, rt.kind(), err)
	}
	if err := d.fillKind(p.id, typ, rs, &rt, name); err != nil {
		if name == "" {
			return fmt.Errorf("type id %d (%s): %w", p.id, rt.kind(), err)
		}
		return fmt.Errorf("type id %d (%s %q): %w", p.id, rt.kind(), name, err)
	}
	return nil
}

func (d *decoder) fillKind(id TypeID, typ Type, rs *rawSpec, rt *rawType, name string) error {
	o := rs.order
	ref := func(id uint32, what string) (Type, error) {
		t, err := d.ref(TypeID(id))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return t, nil
	}
	var err error
	switch t := typ.(type) {
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
		t.Tags, err = d.tags(id, len(t.Members), func(i int, v string) { t.Members[i].Tags = append(t.Members[i].Tags, v) })

	case *Union:
		t.Name, t.Size = name, rt.sizeType
		if t.Members, err = d.members(rs, rt); err != nil {
			return err
		}
		t.Tags, err = d.tags(id, len(t.Members), func(i int, v string) { t.Members[i].Tags = append(t.Members[i].Tags, v) })

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
		t.Tags, err = d.tags(id, 0, nil)

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
		return d.funcTags(id, t, TypeID(rt.sizeType))

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
		t.Tags, err = d.tags(id, 0, nil)

	case *Datasec:
		t.Name, t.Size = name, rt.sizeType
		if t.Vars, err = d.secinfos(rs, rt); err != nil {
			return err
		}
		err = rs.placeDatasec(id, t, rt)

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
	ms := take(&d.memberBuf, n)
	o := rs.order
	data := rt.data[:n*btfMemberSize]
	bitfields := rt.flag()
	for i := range ms {
		b := data[i*btfMemberSize : i*btfMemberSize+btfMemberSize]
		name, err := rs.strings.lookup(o.u32(b[btfMemberNameOffOff:]))
		if err != nil {
			return nil, fmt.Errorf("member %d: name: %w", i, err)
		}
		typ := d.s.types.get(TypeID(o.u32(b[btfMemberTypeOff:])))
		if typ == nil {
			return nil, fmt.Errorf("member %d (%q): %w", i, name, d.badRef(TypeID(o.u32(b[btfMemberTypeOff:]))))
		}
		off := o.u32(b[btfMemberOffsetOff:])
		// Field by field: the slab is zeroed, and storing a whole Member
		// costs a bulk write barrier while the GC runs.
		m := &ms[i]
		m.Name, m.Type = name, typ
		if bitfields {
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
	vs := take(&d.valueBuf, n)
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
	ps := take(&d.paramBuf, n)
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
	vs := take(&d.secinfoBuf, n)
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
