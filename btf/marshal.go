package btf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/bpfkit/ebpf/internal"
)

// Builder turns Types into raw BTF, for the kernel (NewHandle) or for a
// Spec. The zero value is an empty Builder, ready to use.
//
// Types get IDs in the order they are added: Add gives a type the next
// free ID, then numbers the types it references that are new, breadth
// first. Adding the same type (the same pointer) again returns its ID.
// Names are stored once each in the string table.
//
// Decl tags are written twice-proof: a DeclTag that was added and a value
// in the Tags of the type it targets describe the same BTF type, which is
// written once; tags present only in Tags fields are appended after all
// added types.
type Builder struct {
	types   []Type
	ids     map[Type]TypeID
	strings *stringTableBuilder
	dedup   *deduper
}

// BuilderOptions configures NewBuilder.
type BuilderOptions struct {
	// Deduplicate gives structurally identical types one ID: types from
	// two copies of a Spec, or from two objects, share their BTF.
	Deduplicate bool
}

// NewBuilder returns a Builder holding types. It first gives each of types
// an ID in order, then numbers what they reference, so that the types of a
// Spec added in ID order keep their IDs.
func NewBuilder(types []Type, opts *BuilderOptions) (*Builder, error) {
	b := &Builder{}
	if opts != nil && opts.Deduplicate {
		b.dedup = newDeduper()
	}
	b.strings = newStringTableBuilder(len(types))
	b.ids = make(map[Type]TypeID, len(types))
	b.types = make([]Type, 0, len(types))
	for _, t := range types {
		if err := b.allocate(t); err != nil {
			return nil, err
		}
	}
	for _, t := range types {
		if err := b.addChildren(t); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *Builder) init() {
	if b.ids == nil {
		b.ids = make(map[Type]TypeID)
	}
	if b.strings == nil {
		b.strings = newStringTableBuilder(0)
	}
}

// Add gives typ and the types it references IDs, and returns the ID of
// typ. Void is always ID 0.
func (b *Builder) Add(typ Type) (TypeID, error) {
	b.init()
	if err := b.allocate(typ); err != nil {
		return 0, err
	}
	if err := b.addChildren(typ); err != nil {
		return 0, err
	}
	return b.ids[typ], nil
}

// allocate gives typ an ID if it has none.
func (b *Builder) allocate(typ Type) error {
	b.init()
	if typ == nil {
		return errors.New("add nil Type")
	}
	if _, ok := typ.(*Void); ok {
		return nil
	}
	if _, ok := b.ids[typ]; ok {
		return nil
	}
	if b.dedup != nil {
		if id, ok := b.dedup.find(typ, b); ok {
			b.ids[typ] = id
			return nil
		}
	}
	if len(b.types) >= maxTypes-1 {
		return fmt.Errorf("more than %d types", maxTypes-1)
	}
	b.types = append(b.types, typ)
	id := TypeID(len(b.types))
	b.ids[typ] = id
	if b.dedup != nil {
		b.dedup.add(typ, id)
	}
	return nil
}

// addChildren numbers the types reachable from typ, breadth first.
func (b *Builder) addChildren(typ Type) error {
	queue := []Type{typ}
	var err error
	for len(queue) > 0 && err == nil {
		t := queue[0]
		queue = queue[1:]
		if id, ok := b.ids[t]; ok && id != 0 && b.types[id-1] != t {
			// A duplicate of another type: its children are the other's.
			continue
		}
		children(t, func(c *Type) bool {
			if *c == nil {
				err = fmt.Errorf("%s: nil child type", t)
				return false
			}
			if _, ok := (*c).(*Void); ok {
				return true
			}
			if _, ok := b.ids[*c]; ok {
				return true
			}
			if err = b.allocate(*c); err != nil {
				return false
			}
			queue = append(queue, *c)
			return true
		})
	}
	return err
}

// Empty reports whether nothing was added: no types and no strings.
func (b *Builder) Empty() bool {
	return len(b.types) == 0 && (b.strings == nil || b.strings.length() <= 1)
}

// typeID returns the ID of a type added to b.
func (b *Builder) typeID(t Type) (TypeID, error) {
	if _, ok := t.(*Void); ok {
		return 0, nil
	}
	id, ok := b.ids[t]
	if !ok {
		return 0, fmt.Errorf("%s: not added to the builder", t)
	}
	return id, nil
}

// addString adds s to the string table and returns its offset.
func (b *Builder) addString(s string) (uint32, error) {
	b.init()
	return b.strings.add(s)
}

// MarshalOptions says how to encode BTF.
type MarshalOptions struct {
	// Order is the byte order to write; nil means the host's.
	Order binary.ByteOrder
	// StripFuncLinkage writes every Func as static, for kernels before
	// 5.6 that reject linkage.
	StripFuncLinkage bool
	// ReplaceDeclTags writes decl tags as placeholder INTs, for kernels
	// before 5.16.
	ReplaceDeclTags bool
	// ReplaceTypeTags writes type tags as CONSTs, for kernels before 5.17.
	ReplaceTypeTags bool
	// ReplaceEnum64 writes 64-bit enums as 32-bit ones when their values
	// fit and as INTs otherwise, for kernels before 6.0.
	ReplaceEnum64 bool
	// ReplaceFloat writes floats as anonymous structs of the same size
	// without members, for kernels before 5.13.
	ReplaceFloat bool
	// PreventNoTypeFound writes a placeholder INT when there are no
	// types: every kernel rejects BTF without types ("No type found").
	PreventNoTypeFound bool
}

// Marshal appends the BTF encoding of all added types to buf and returns
// it. opts may be nil for the host's byte order and no compatibility
// rewrites.
func (b *Builder) Marshal(buf []byte, opts *MarshalOptions) ([]byte, error) {
	b.init()
	var o MarshalOptions
	if opts != nil {
		o = *opts
	}
	if o.Order == nil {
		o.Order = internal.NativeEndian
	}
	e := encoder{MarshalOptions: o, b: b}
	var err error
	if e.order, err = orderOf(o.Order); err != nil {
		return nil, err
	}
	return e.marshal(buf)
}

// Spec encodes the types and parses them back into a Spec that shares no
// state with the Builder.
func (b *Builder) Spec() (*Spec, error) {
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		return nil, err
	}
	rs, err := newRawSpec(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("parse marshaled BTF: %w", err)
	}
	return newSpec(rs), nil
}

// encoder writes one Marshal's output.
type encoder struct {
	MarshalOptions
	b     *Builder
	order byteOrder
	types []byte
}

func (e *encoder) u32(v uint32) {
	if e.order.big {
		e.types = binary.BigEndian.AppendUint32(e.types, v)
	} else {
		e.types = binary.LittleEndian.AppendUint32(e.types, v)
	}
}

// header writes a btf_type.
func (e *encoder) header(name string, kind btfKind, vlen int, flag bool, sizeType uint32) error {
	if vlen > btfMaxVlen {
		return fmt.Errorf("%d elements exceed the maximum of %d", vlen, btfMaxVlen)
	}
	off, err := e.b.strings.add(name)
	if err != nil {
		return err
	}
	e.u32(off)
	e.u32(makeInfo(kind, vlen, flag))
	e.u32(sizeType)
	return nil
}

func (e *encoder) ref(t Type) (uint32, error) {
	id, err := e.b.typeID(t)
	return uint32(id), err
}

func (e *encoder) marshal(buf []byte) ([]byte, error) {
	e.types = make([]byte, 0, 64*len(e.b.types))
	tags, err := e.b.pendingTags()
	if err != nil {
		return nil, err
	}
	for i, t := range e.b.types {
		if err := e.encode(t); err != nil {
			return nil, fmt.Errorf("type id %d (%s): %w", i+1, t, err)
		}
	}
	for _, tag := range tags {
		if e.ReplaceDeclTags {
			break
		}
		if err := e.encodeDeclTag(tag); err != nil {
			return nil, fmt.Errorf("decl tag %q on %s: %w", tag.Value, tag.Type, err)
		}
	}
	if len(e.types) == 0 && e.PreventNoTypeFound {
		if err := e.header("", kindInt, 0, false, 1); err != nil {
			return nil, err
		}
		e.u32(8)
	}
	if uint64(len(e.types)) > math.MaxUint32 || uint64(e.b.strings.length()) > math.MaxUint32 {
		return nil, errors.New("BTF exceeds 4 GiB")
	}

	strs := e.b.strings.data
	hdr := make([]byte, btfHeaderSize)
	bo := e.Order
	bo.PutUint16(hdr[btfHeaderMagicOff:], btfMagic)
	hdr[btfHeaderVersionOff] = 1
	hdr[btfHeaderFlagsOff] = 0
	bo.PutUint32(hdr[btfHeaderHdrLenOff:], btfHeaderSize)
	bo.PutUint32(hdr[btfHeaderTypeOffOff:], 0)
	bo.PutUint32(hdr[btfHeaderTypeLenOff:], uint32(len(e.types)))
	bo.PutUint32(hdr[btfHeaderStrOffOff:], uint32(len(e.types)))
	bo.PutUint32(hdr[btfHeaderStrLenOff:], uint32(len(strs)))
	buf = append(buf, hdr...)
	buf = append(buf, e.types...)
	return append(buf, strs...), nil
}

func (e *encoder) encode(t Type) error {
	switch v := t.(type) {
	case *Int:
		if v.Size > 16 {
			return fmt.Errorf("size %d exceeds 16 bytes", v.Size)
		}
		if err := e.header(v.Name, kindInt, 0, false, v.Size); err != nil {
			return err
		}
		e.u32(uint32(v.Encoding)<<24 | v.Size*8)

	case *Pointer:
		return e.refType(kindPtr, "", v.Target)

	case *Array:
		typ, err := e.ref(v.Type)
		if err != nil {
			return err
		}
		index, err := e.ref(v.Index)
		if err != nil {
			return err
		}
		if err := e.header("", kindArray, 0, false, 0); err != nil {
			return err
		}
		e.u32(typ)
		e.u32(index)
		e.u32(v.Nelems)

	case *Struct:
		return e.composite(kindStruct, v.Name, v.Size, v.Members)
	case *Union:
		return e.composite(kindUnion, v.Name, v.Size, v.Members)

	case *Enum:
		return e.enum(v)

	case *Fwd:
		return e.header(v.Name, kindFwd, 0, v.Kind == FwdUnion, 0)

	case *Typedef:
		return e.refType(kindTypedef, v.Name, v.Type)
	case *Volatile:
		return e.refType(kindVolatile, "", v.Type)
	case *Const:
		return e.refType(kindConst, "", v.Type)
	case *Restrict:
		return e.refType(kindRestrict, "", v.Type)

	case *Func:
		proto, err := e.ref(v.Type)
		if err != nil {
			return err
		}
		linkage := v.Linkage
		if e.StripFuncLinkage {
			linkage = StaticFunc
		}
		if linkage < 0 || linkage > btfMaxVlen {
			return fmt.Errorf("invalid linkage %d", linkage)
		}
		return e.header(v.Name, kindFunc, int(linkage), false, proto)

	case *FuncProto:
		ret, err := e.ref(v.Return)
		if err != nil {
			return err
		}
		params := make([]uint32, 0, 2*len(v.Params))
		for i, p := range v.Params {
			name, err := e.b.strings.add(p.Name)
			if err != nil {
				return err
			}
			id, err := e.ref(p.Type)
			if err != nil {
				return fmt.Errorf("param %d: %w", i, err)
			}
			params = append(params, name, id)
		}
		if err := e.header("", kindFuncProto, len(v.Params), false, ret); err != nil {
			return err
		}
		for _, w := range params {
			e.u32(w)
		}

	case *Var:
		typ, err := e.ref(v.Type)
		if err != nil {
			return err
		}
		if err := e.header(v.Name, kindVar, 0, false, typ); err != nil {
			return err
		}
		e.u32(uint32(v.Linkage))

	case *Datasec:
		vars := make([]uint32, 0, 3*len(v.Vars))
		for i, vs := range v.Vars {
			id, err := e.ref(vs.Type)
			if err != nil {
				return fmt.Errorf("variable %d: %w", i, err)
			}
			vars = append(vars, id, vs.Offset, vs.Size)
		}
		if err := e.header(v.Name, kindDatasec, len(v.Vars), false, v.Size); err != nil {
			return err
		}
		for _, w := range vars {
			e.u32(w)
		}

	case *Float:
		if e.ReplaceFloat {
			// "float" is no valid struct name: anonymous, as libbpf does.
			return e.header("", kindStruct, 0, false, v.Size)
		}
		return e.header(v.Name, kindFloat, 0, false, v.Size)

	case *DeclTag:
		return e.encodeDeclTag(v)

	case *TypeTag:
		if e.ReplaceTypeTags {
			return e.refType(kindConst, "", v.Type)
		}
		return e.refType(kindTypeTag, v.Value, v.Type)

	default:
		return fmt.Errorf("unsupported type %T", t)
	}
	return nil
}

func (e *encoder) refType(kind btfKind, name string, t Type) error {
	id, err := e.ref(t)
	if err != nil {
		return err
	}
	return e.header(name, kind, 0, false, id)
}

func (e *encoder) composite(kind btfKind, name string, size uint32, members []Member) error {
	bitfields := false
	for _, m := range members {
		if m.BitfieldSize != 0 {
			bitfields = true
			break
		}
	}
	words := make([]uint32, 0, 3*len(members))
	for i, m := range members {
		nameOff, err := e.b.strings.add(m.Name)
		if err != nil {
			return err
		}
		id, err := e.ref(m.Type)
		if err != nil {
			return fmt.Errorf("member %d (%q): %w", i, m.Name, err)
		}
		off := uint32(m.Offset)
		if bitfields {
			if m.Offset > 0xffffff || m.BitfieldSize > 0xff {
				return fmt.Errorf("member %q: bitfield offset %d or size %d too large", m.Name, m.Offset, m.BitfieldSize)
			}
			off = uint32(m.BitfieldSize)<<24 | uint32(m.Offset)
		}
		words = append(words, nameOff, id, off)
	}
	if err := e.header(name, kind, len(members), bitfields, size); err != nil {
		return err
	}
	for _, w := range words {
		e.u32(w)
	}
	return nil
}

func (e *encoder) enum(v *Enum) error {
	wide := v.Size == 8
	if wide && e.ReplaceEnum64 {
		if v.has64BitValues() {
			// No 32-bit enum can hold these: an integer of the same
			// size and sign is the closest the old kernel understands.
			if err := e.header(v.Name, kindInt, 0, false, v.Size); err != nil {
				return err
			}
			enc := Unsigned
			if v.Signed {
				enc = Signed
			}
			e.u32(uint32(enc)<<24 | v.Size*8)
			return nil
		}
		wide = false
	}
	if !wide && v.has64BitValues() {
		return fmt.Errorf("values need 64 bits but size is %d", v.Size)
	}
	kind := kindEnum
	if wide {
		kind = kindEnum64
	}
	names := make([]uint32, len(v.Values))
	for i, ev := range v.Values {
		var err error
		if names[i], err = e.b.strings.add(ev.Name); err != nil {
			return err
		}
	}
	if err := e.header(v.Name, kind, len(v.Values), v.Signed, v.Size); err != nil {
		return err
	}
	for i, ev := range v.Values {
		e.u32(names[i])
		if wide {
			e.u32(uint32(ev.Value))
			e.u32(uint32(ev.Value >> 32))
		} else {
			e.u32(uint32(ev.Value))
		}
	}
	return nil
}

func (e *encoder) encodeDeclTag(v *DeclTag) error {
	if e.ReplaceDeclTags {
		// Keep the ID: an anonymous one-byte INT, as libbpf does (tag
		// values need not be valid names).
		if err := e.header("", kindInt, 0, false, 1); err != nil {
			return err
		}
		e.u32(8)
		return nil
	}
	target, err := e.ref(v.Type)
	if err != nil {
		return err
	}
	if v.Index < -1 || v.Index > math.MaxInt32 {
		return fmt.Errorf("component index %d out of range", v.Index)
	}
	if err := e.header(v.Value, kindDeclTag, 0, false, target); err != nil {
		return err
	}
	e.u32(uint32(int32(v.Index)))
	return nil
}

// declTagKey identifies a decl tag by what it says.
type declTagKey struct {
	target Type
	index  int
	value  string
}

// pendingTags returns the decl tags that Tags fields of added types ask for
// and that no added DeclTag already provides.
func (b *Builder) pendingTags() ([]*DeclTag, error) {
	explicit := make(map[declTagKey]int)
	for _, t := range b.types {
		if dt, ok := t.(*DeclTag); ok {
			explicit[declTagKey{dt.Type, dt.Index, dt.Value}]++
		}
	}
	var out []*DeclTag
	want := func(target Type, index int, values []string) {
		for _, v := range values {
			k := declTagKey{target, index, v}
			if explicit[k] > 0 {
				explicit[k]--
				continue
			}
			out = append(out, &DeclTag{Type: target, Value: v, Index: index})
		}
	}
	for _, t := range b.types {
		switch v := t.(type) {
		case *Struct:
			want(v, -1, v.Tags)
			for i, m := range v.Members {
				want(v, i, m.Tags)
			}
		case *Union:
			want(v, -1, v.Tags)
			for i, m := range v.Members {
				want(v, i, m.Tags)
			}
		case *Typedef:
			want(v, -1, v.Tags)
		case *Var:
			want(v, -1, v.Tags)
		case *Func:
			want(v, -1, v.Tags)
			for i, tags := range v.ParamTags {
				want(v, i, tags)
			}
		}
	}
	if len(b.types)+len(out) >= maxTypes {
		return nil, fmt.Errorf("more than %d types", maxTypes-1)
	}
	return out, nil
}
