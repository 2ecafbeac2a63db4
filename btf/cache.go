package btf

import (
	"unsafe"
)

// typeCache holds the decoded types of a Spec by ID: a hash table while
// few are decoded, a slice indexed by ID once many are (iterating all types
// of vmlinux decodes 150k of them, for which a slice is smaller and faster).
//
// The table is open addressing with linear probing. A slot is 12 bytes: a
// uint32 holding the ID plus one (0 marks an empty slot) and a tag naming
// the Go type, and the bare pointer to the decoded value, from which get
// rebuilds the interface. That is 40% smaller than storing interfaces,
// which matters: resolving task_struct caches 6,000 types. The decoder
// reserves room for a whole request before entering its types, so the
// table grows at most once per request, straight to the size it needs
// (any size, not only powers of two).
type typeCache struct {
	limit TypeID
	n     int
	keys  []uint32
	ptrs  []unsafe.Pointer
	dense []Type
}

// Cache slot keys: the ID plus one in the low bits, a goTag above.
const (
	cacheIDBits = 27
	cacheIDMask = 1<<cacheIDBits - 1
)

// goTag names the concrete Go type of a cached Type.
type goTag uint32

const (
	tagVoid goTag = iota + 1
	tagInt
	tagPointer
	tagArray
	tagStruct
	tagUnion
	tagEnum
	tagFwd
	tagTypedef
	tagVolatile
	tagConst
	tagRestrict
	tagFunc
	tagFuncProto
	tagVar
	tagDatasec
	tagFloat
	tagDeclTag
	tagTypeTag
)

// pack splits t into a tag and a pointer. ok is false for Type
// implementations of other packages, which a cache never holds.
func pack(t Type) (goTag, unsafe.Pointer) {
	switch v := t.(type) {
	case *Void:
		return tagVoid, unsafe.Pointer(v)
	case *Int:
		return tagInt, unsafe.Pointer(v)
	case *Pointer:
		return tagPointer, unsafe.Pointer(v)
	case *Array:
		return tagArray, unsafe.Pointer(v)
	case *Struct:
		return tagStruct, unsafe.Pointer(v)
	case *Union:
		return tagUnion, unsafe.Pointer(v)
	case *Enum:
		return tagEnum, unsafe.Pointer(v)
	case *Fwd:
		return tagFwd, unsafe.Pointer(v)
	case *Typedef:
		return tagTypedef, unsafe.Pointer(v)
	case *Volatile:
		return tagVolatile, unsafe.Pointer(v)
	case *Const:
		return tagConst, unsafe.Pointer(v)
	case *Restrict:
		return tagRestrict, unsafe.Pointer(v)
	case *Func:
		return tagFunc, unsafe.Pointer(v)
	case *FuncProto:
		return tagFuncProto, unsafe.Pointer(v)
	case *Var:
		return tagVar, unsafe.Pointer(v)
	case *Datasec:
		return tagDatasec, unsafe.Pointer(v)
	case *Float:
		return tagFloat, unsafe.Pointer(v)
	case *DeclTag:
		return tagDeclTag, unsafe.Pointer(v)
	case *TypeTag:
		return tagTypeTag, unsafe.Pointer(v)
	}
	panic("btf: foreign Type implementation in cache")
}

// unpack is the inverse of pack.
func unpack(tag goTag, p unsafe.Pointer) Type {
	switch tag {
	case tagVoid:
		return (*Void)(p)
	case tagInt:
		return (*Int)(p)
	case tagPointer:
		return (*Pointer)(p)
	case tagArray:
		return (*Array)(p)
	case tagStruct:
		return (*Struct)(p)
	case tagUnion:
		return (*Union)(p)
	case tagEnum:
		return (*Enum)(p)
	case tagFwd:
		return (*Fwd)(p)
	case tagTypedef:
		return (*Typedef)(p)
	case tagVolatile:
		return (*Volatile)(p)
	case tagConst:
		return (*Const)(p)
	case tagRestrict:
		return (*Restrict)(p)
	case tagFunc:
		return (*Func)(p)
	case tagFuncProto:
		return (*FuncProto)(p)
	case tagVar:
		return (*Var)(p)
	case tagDatasec:
		return (*Datasec)(p)
	case tagFloat:
		return (*Float)(p)
	case tagDeclTag:
		return (*DeclTag)(p)
	case tagTypeTag:
		return (*TypeTag)(p)
	}
	return nil
}

// slot maps id to its home slot. The multiply spreads consecutive IDs,
// the shift maps the product onto a table of any size.
func (c *typeCache) slot(id TypeID) uint32 {
	return uint32(uint64(uint32(id)*0x9e3779b1) * uint64(len(c.keys)) >> 32)
}

func (c *typeCache) get(id TypeID) Type {
	if c.dense != nil {
		if id < TypeID(len(c.dense)) {
			return c.dense[id]
		}
		return nil
	}
	if c.n == 0 {
		return nil
	}
	want := uint32(id) + 1
	for i := c.slot(id); ; {
		k := c.keys[i]
		if k&cacheIDMask == want {
			return unpack(goTag(k>>cacheIDBits), c.ptrs[i])
		}
		if k == 0 {
			return nil
		}
		if i++; int(i) == len(c.keys) {
			i = 0
		}
	}
}

// smallCache is the number of types up to which a Spec caches in a slice
// from the start: 2 KB at most, about what the smallest table costs, and
// most objects have fewer types.
const smallCache = 128

// reserve makes room for k more types, so that a decode request grows the
// table at most once.
func (c *typeCache) reserve(k int) {
	if c.dense != nil {
		return
	}
	n := c.n + k
	if n > int(c.limit/8) && n > 64 || c.limit <= smallCache {
		// Most types will be decoded, or there are few: a slice indexed
		// by ID is smaller than the table would become.
		c.dense = make([]Type, max(c.limit, 1)) // Void has ID 0 even in an empty Spec
		for i, k := range c.keys {
			if k != 0 {
				c.dense[k&cacheIDMask-1] = unpack(goTag(k>>cacheIDBits), c.ptrs[i])
			}
		}
		c.keys, c.ptrs = nil, nil
		return
	}
	// Linear probing stays short up to a load of 3/4.
	if 4*n > 3*len(c.keys) {
		c.resize(max(2*len(c.keys), n+n/2, 64))
	}
}

func (c *typeCache) set(id TypeID, t Type) {
	c.reserve(1)
	c.n++
	if c.dense != nil {
		c.dense[id] = t
		return
	}
	tag, p := pack(t)
	c.insert(uint32(id)+1|uint32(tag)<<cacheIDBits, p)
}

func (c *typeCache) insert(key uint32, p unsafe.Pointer) {
	i := c.slot(TypeID(key&cacheIDMask - 1))
	for c.keys[i] != 0 && c.keys[i]&cacheIDMask != key&cacheIDMask {
		if i++; int(i) == len(c.keys) {
			i = 0
		}
	}
	c.keys[i], c.ptrs[i] = key, p
}

func (c *typeCache) resize(size int) {
	keys, ptrs := c.keys, c.ptrs
	c.keys, c.ptrs = make([]uint32, size), make([]unsafe.Pointer, size)
	for i, k := range keys {
		if k != 0 {
			c.insert(k, ptrs[i])
		}
	}
}

// delAll removes ids. Only the decoder's rollback uses it, so it rebuilds
// the table rather than dealing with tombstones.
func (c *typeCache) delAll(ids []TypeID) {
	if len(ids) == 0 {
		return
	}
	c.n -= len(ids)
	if c.dense != nil {
		for _, id := range ids {
			c.dense[id] = nil
		}
		return
	}
	drop := make(map[uint32]bool, len(ids))
	for _, id := range ids {
		drop[uint32(id)+1] = true
	}
	keys, ptrs := c.keys, c.ptrs
	c.keys, c.ptrs = make([]uint32, len(keys)), make([]unsafe.Pointer, len(ptrs))
	for i, k := range keys {
		if k != 0 && !drop[k&cacheIDMask] {
			c.insert(k, ptrs[i])
		}
	}
}

// each calls fn for every decoded type, in no particular order.
func (c *typeCache) each(fn func(TypeID, Type)) {
	if c.dense != nil {
		for id, t := range c.dense {
			if t != nil {
				fn(TypeID(id), t)
			}
		}
		return
	}
	for i, k := range c.keys {
		if k != 0 {
			fn(TypeID(k&cacheIDMask-1), unpack(goTag(k>>cacheIDBits), c.ptrs[i]))
		}
	}
}
