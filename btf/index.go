package btf

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// rawSpec is the index over one raw BTF blob: the type and string sections
// as they are in the file, plus the byte offset of every indexStride-th
// type. It is built by one pass over the type section and never changes
// afterwards, so every Spec decoded from the same blob (copies, views
// handed out by LoadKernelSpec, split specs on top of it) shares it.
//
// Types are decoded from it on demand, by Spec (decode.go).
type rawSpec struct {
	order   byteOrder
	types   []byte
	strings *stringTable
	base    *rawSpec
	// firstID is the ID of the first type of this blob: 1 for base BTF,
	// the ID after the base's last type for split BTF.
	firstID TypeID
	count   uint32
	// counts counts the types of this blob by the Go type they decode to,
	// and their members, parameters and so on, so that a Spec's slabs are
	// no larger than its blobs (slab.go). Counted on first use.
	countsOnce sync.Once
	counts     slabBudget
	// checkpoints[i] is the offset of type firstID+i*indexStride.
	checkpoints []uint32
	// lens gives the layout of each kind, for skipping from one type to
	// the next.
	lens [infoKindMask + 1]kindLen
	// declTags lists the IDs of this blob's DECL_TAG types, so that
	// decoding a tagged type does not need to search for its tags.
	declTags []TypeID
	// unsizedDatasecs is set if a DATASEC has size 0: compilers leave
	// sizes and offsets to the ELF file.
	unsizedDatasecs bool
	// placements holds what an ELF file says about the sections that
	// the DATASECs describe, sorted by ID; nil for raw BTF (elf.go).
	placements []datasecPlacement

	// names holds one index per nameClass: classOther is built by scan,
	// classFunc on first use.
	nameSeed      uint64
	names         [2]*nameIndex
	funcNamesOnce sync.Once
	flavorState

	tagsOnce sync.Once
	tags     []declTagRef
}

// indexStride trades TypeByID speed for memory: keeping every offset would
// cost 4 bytes per type (half a megabyte for vmlinux), keeping every 4th
// costs a quarter of that and at most three header reads per lookup.
const indexStride = 4

// maxTypes bounds the number of types, far above what the kernel accepts
// (BTF_MAX_TYPE), so that an ID plus one fits the 27 bits the type cache
// packs it into.
const maxTypes = cacheIDMask - 1

// newRawSpec indexes raw BTF. base is nil unless raw is split BTF.
func newRawSpec(raw []byte, base *rawSpec) (*rawSpec, error) {
	hdr, types, strs, err := parseHeader(raw)
	if err != nil {
		return nil, err
	}
	r := &rawSpec{order: hdr.order, types: types, base: base, firstID: 1, lens: builtinLens, nameSeed: rand.Uint64()}
	for k, l := range hdr.layouts {
		if k < len(r.lens) && r.lens[k] == 0 {
			r.lens[k] = makeKindLen(int(l.infoSize), int(l.elemSize))
		}
	}
	var baseStrings *stringTable
	if base != nil {
		if base.order != hdr.order {
			return nil, fmt.Errorf("split BTF is %s but its base is %s", hdr.order.std(), base.order.std())
		}
		r.firstID = base.nextID()
		baseStrings = base.strings
	}
	if r.strings, err = newStringTable(strs, baseStrings); err != nil {
		return nil, err
	}
	if err := r.scan(); err != nil {
		return nil, err
	}
	return r, nil
}

// rawBytes encodes r alone again: a header, its types and its strings. For
// tests and for writing split BTF.
func (r *rawSpec) rawBytes() []byte {
	bo := r.order.std()
	hdr := make([]byte, btfHeaderSize)
	bo.PutUint16(hdr[btfHeaderMagicOff:], btfMagic)
	hdr[btfHeaderVersionOff] = 1
	bo.PutUint32(hdr[btfHeaderHdrLenOff:], btfHeaderSize)
	bo.PutUint32(hdr[btfHeaderTypeLenOff:], uint32(len(r.types)))
	bo.PutUint32(hdr[btfHeaderStrOffOff:], uint32(len(r.types)))
	bo.PutUint32(hdr[btfHeaderStrLenOff:], uint32(len(r.strings.data)))
	out := append(hdr, r.types...)
	return append(out, r.strings.data...)
}

// nextID is the ID after the last type of r.
func (r *rawSpec) nextID() TypeID { return r.firstID + TypeID(r.count) }

// kindLen is the layout of one kind, packed for the scan loop: the low 16
// bits are the size of btf_type plus the record that follows it, the high
// 16 bits the size of each of the vlen records after that. Zero marks a
// kind whose layout is unknown.
type kindLen uint32

func makeKindLen(info, elem int) kindLen {
	return kindLen(uint32(btfTypeSize+info) | uint32(elem)<<16)
}

// size is the length of a type of this kind with vlen elements.
func (l kindLen) size(vlen uint32) uint32 { return uint32(l&0xffff) + vlen*uint32(l>>16) }

// builtinLens holds the layout of every kind this package knows.
var builtinLens = func() (lens [infoKindMask + 1]kindLen) {
	for k := range lens {
		one, ok0 := dataLen(btfKind(k), 0)
		two, _ := dataLen(btfKind(k), 1)
		if ok0 {
			lens[k] = makeKindLen(one, two-one)
		}
	}
	return lens
}()

// typeLen returns the length of the validated type at off.
func (r *rawSpec) typeLen(off uint32) uint32 {
	info := r.order.u32(r.types[off+btfTypeInfoOff:])
	return r.lens[info>>infoKindShift&infoKindMask].size(info & infoVlenMask)
}

// scan walks the type section once: it checks that every type fits, and
// records checkpoints and decl tags, and indexes the names of all types but
// functions.
func (r *rawSpec) scan() error {
	types := r.types
	if len(types)%4 != 0 {
		return fmt.Errorf("type section length %d is not a multiple of 4", len(types))
	}
	if len(types)/btfTypeSize+int(r.firstID) >= maxTypes {
		return fmt.Errorf("type section of %d bytes may hold more than %d types", len(types), maxTypes)
	}
	// Most sections average more than 24 bytes per type; append grows the
	// slice for those that do not.
	r.checkpoints = make([]uint32, 0, len(types)/24/indexStride+1)
	// named collects hash<<32 | index of the types for the name index, in
	// chunks so that growing it copies nothing. Types take 12 bytes or
	// more, and usually many more: a quarter of the upper bound is a fair
	// first guess.
	named := newChunkedList(len(types) / btfTypeSize / 4)
	// This loop runs once per type (150k times for vmlinux): everything it
	// needs is in locals.
	lens := r.lens
	big := r.order.big
	u32 := func(b []byte) uint32 {
		if big {
			return binary.BigEndian.Uint32(b)
		}
		return binary.LittleEndian.Uint32(b)
	}
	var off, n uint32
	for int(off) < len(types) {
		if n%indexStride == 0 {
			r.checkpoints = append(r.checkpoints, off)
		}
		if len(types)-int(off) < btfTypeSize {
			return fmt.Errorf("type id %d at offset %d: btf_type truncated: %d bytes left", r.firstID+TypeID(n), off, len(types)-int(off))
		}
		b := types[off : off+btfTypeSize : off+btfTypeSize]
		info := u32(b[btfTypeInfoOff:])
		kind := infoKind(info)
		l := lens[kind]
		if l == 0 {
			return fmt.Errorf("type id %d at offset %d: unknown kind %d and no kind layout to skip it", r.firstID+TypeID(n), off, kind)
		}
		size := l.size(info & infoVlenMask)
		if uint64(off)+uint64(size) > uint64(len(types)) {
			return fmt.Errorf("type id %d at offset %d: %s with vlen %d needs %d bytes, %d left", r.firstID+TypeID(n), off, kind, infoVlen(info), size, len(types)-int(off))
		}
		switch kind {
		case kindFunc, kindTypeTag, kindPtr, kindFuncProto, kindConst, kindVolatile, kindRestrict, kindArray:
			// Functions have their own index, built on first use; a type
			// tag's name is its value, not a type name; the others have no
			// names.
		case kindDeclTag:
			r.declTags = append(r.declTags, r.firstID+TypeID(n))
		default:
			if kind == kindDatasec && u32(b[btfTypeSizeOff:]) == 0 {
				r.unsizedDatasecs = true
			}
			if nameOff := u32(b[btfTypeNameOffOff:]); nameOff != 0 {
				if h, ok := r.nameHash(nameOff); ok {
					named.add(uint64(h)<<32 | uint64(n))
				}
			}
		}
		off += size
		n++
	}
	r.count = n
	r.names[classOther] = newNameIndex(r.nameSeed, n, named)
	return nil
}

// budget counts the types of r and its bases by the Go type they decode
// to, and their elements.
func (r *rawSpec) budget() slabBudget {
	var b slabBudget
	for ; r != nil; r = r.base {
		b.add(r.kindCounts())
	}
	return b
}

// countedBlob is the size of the largest type section whose types are
// counted: a slab budget matters for objects, whose BTF is a few KB, not
// for vmlinux, where the count would be one more pass over 5 MB.
const countedBlob = 1 << 20

// kindCounts returns the counts of r's types by Go type and of their
// elements, all math.MaxInt32 ("no limit") for large blobs.
func (r *rawSpec) kindCounts() *slabBudget {
	r.countsOnce.Do(func() {
		c := &r.counts
		if len(r.types) > countedBlob {
			for i := range c.shells {
				c.shells[i] = math.MaxInt32
			}
			c.members, c.params, c.values, c.secinfos = math.MaxInt32, math.MaxInt32, math.MaxInt32, math.MaxInt32
			return
		}
		// Each type takes 12 bytes or more and each element 8 or more of
		// at most 1 MB: none of these overflow.
		var off uint32
		for range r.count {
			info := r.order.u32(r.types[off+btfTypeInfoOff:])
			kind, vlen := infoKind(info), int32(info&infoVlenMask)
			off += r.lens[kind].size(info & infoVlenMask)
			c.shells[goTagOf(kind)]++
			switch kind {
			case kindStruct, kindUnion:
				c.members += vlen
			case kindFuncProto:
				c.params += vlen
			case kindEnum, kindEnum64:
				c.values += vlen
			case kindDatasec:
				c.secinfos += vlen
			}
		}
	})
	return &r.counts
}

// locate finds the blob holding id (r or one of its bases) and the offset
// of the type in it.
func (r *rawSpec) locate(id TypeID) (*rawSpec, uint32, error) {
	for r != nil && id < r.firstID {
		r = r.base
	}
	if r == nil || id-r.firstID >= TypeID(r.count) {
		return nil, 0, fmt.Errorf("type id %d: %w", id, ErrNotFound)
	}
	i := uint32(id - r.firstID)
	off := r.checkpoints[i/indexStride]
	for j := i % indexStride; j > 0; j-- {
		off += r.typeLen(off)
	}
	return r, off, nil
}

// rawType is a btf_type header and the bytes that follow it.
type rawType struct {
	nameOff  uint32
	info     uint32
	sizeType uint32
	data     []byte
}

func (rt *rawType) kind() btfKind { return infoKind(rt.info) }
func (rt *rawType) vlen() int     { return infoVlen(rt.info) }
func (rt *rawType) flag() bool    { return infoFlag(rt.info) }

// at decodes the type header at off. off must come from locate or a walk.
func (r *rawSpec) at(off uint32) rawType {
	b := r.types[off:]
	l := r.typeLen(off)
	return rawType{
		nameOff:  r.order.u32(b[btfTypeNameOffOff:]),
		info:     r.order.u32(b[btfTypeInfoOff:]),
		sizeType: r.order.u32(b[btfTypeSizeOff:]),
		data:     b[btfTypeSize:l:l],
	}
}

// walk calls fn for every type of r in ID order, with the type's offset.
// It stops when fn returns false.
func (r *rawSpec) walk(fn func(id TypeID, off uint32) bool) {
	var off uint32
	for i := uint32(0); i < r.count; i++ {
		if !fn(r.firstID+TypeID(i), off) {
			return
		}
		off += r.typeLen(off)
	}
}

// kindOf returns the kind of id without decoding it.
func (r *rawSpec) kindOf(id TypeID) (btfKind, error) {
	if id == 0 {
		return kindUnkn, nil
	}
	rs, off, err := r.locate(id)
	if err != nil {
		return 0, err
	}
	return infoKind(rs.order.u32(rs.types[off+btfTypeInfoOff:])), nil
}

// nameOf returns the name of id without decoding the type.
func (r *rawSpec) nameOf(id TypeID) ([]byte, error) {
	rs, off, err := r.locate(id)
	if err != nil {
		return nil, err
	}
	return rs.strings.lookupBytes(rs.order.u32(rs.types[off+btfTypeNameOffOff:]))
}

// tagsFor returns the IDs of the DECL_TAG types that target id, in ID
// order, from r and its bases.
func (r *rawSpec) tagsFor(id TypeID) []TypeID {
	var out []TypeID
	for rs := r; rs != nil; rs = rs.base {
		if len(rs.declTags) == 0 {
			continue
		}
		rs.tagsOnce.Do(rs.indexTags)
		i, _ := slices.BinarySearchFunc(rs.tags, id, func(t declTagRef, id TypeID) int { return cmp.Compare(t.target, id) })
		var own []TypeID
		for ; i < len(rs.tags) && rs.tags[i].target == id; i++ {
			own = append(own, rs.tags[i].tag)
		}
		// Base tags have lower IDs: they go first.
		out = append(own, out...)
	}
	return out
}

// declTagRef is a DECL_TAG and the type it targets.
type declTagRef struct{ target, tag TypeID }

// indexTags sorts the decl tags of r by target, then by ID.
func (r *rawSpec) indexTags() {
	r.tags = make([]declTagRef, 0, len(r.declTags))
	for _, id := range r.declTags {
		_, off, err := r.locate(id)
		if err != nil {
			continue
		}
		r.tags = append(r.tags, declTagRef{TypeID(r.order.u32(r.types[off+btfTypeTypeOff:])), id})
	}
	slices.SortFunc(r.tags, func(a, b declTagRef) int {
		if c := cmp.Compare(a.target, b.target); c != 0 {
			return c
		}
		return cmp.Compare(a.tag, b.tag)
	})
}
