package btf

import (
	"errors"
	"fmt"
	"math"
)

// maxResolveDepth bounds how many qualifiers, typedefs and array levels the
// helpers below follow, as libbpf does, so that a cyclic typedef cannot
// make them loop.
const maxResolveDepth = 32

var errTooDeep = errors.New("exceeded maximum type depth")

// unwrap returns the type that typ qualifies (Const, Volatile, Restrict,
// TypeTag) and, with typedefs, the type a Typedef names; false for any
// other type.
func unwrap(typ Type, typedefs bool) (Type, bool) {
	switch v := typ.(type) {
	case *Const:
		return v.Type, true
	case *Volatile:
		return v.Type, true
	case *Restrict:
		return v.Type, true
	case *TypeTag:
		return v.Type, true
	case *Typedef:
		return v.Type, typedefs
	}
	return typ, false
}

// QualifiedType returns typ without its qualifiers (Const, Volatile,
// Restrict, TypeTag). If more than 32 qualifiers are stacked (only a
// malformed graph does that), it returns the type reached after 32.
func QualifiedType(typ Type) Type {
	return strip(typ, false)
}

// UnderlyingType returns typ without its qualifiers and typedefs. If more
// than 32 are stacked, it returns the type reached after 32.
func UnderlyingType(typ Type) Type {
	return strip(typ, true)
}

func strip(typ Type, typedefs bool) Type {
	for range maxResolveDepth {
		next, ok := unwrap(typ, typedefs)
		if !ok {
			return typ
		}
		typ = next
	}
	return typ
}

// As returns typ as a T, looking through qualifiers and typedefs if typ is
// not a T itself. It returns false if there is no T or if the chain is
// deeper than 32 levels.
func As[T Type](typ Type) (T, bool) {
	for range maxResolveDepth {
		if t, ok := typ.(T); ok {
			return t, true
		}
		next, ok := unwrap(typ, true)
		if !ok {
			break
		}
		typ = next
	}
	var zero T
	return zero, false
}

// pointerSize is the size of a pointer on every BPF target.
const pointerSize = 8

// Sizeof returns the size of typ in bytes, following qualifiers, typedefs,
// variables and arrays. It does not allocate.
//
// It returns an error for types without a size (Void, Fwd, Func,
// FuncProto), for chains deeper than 32 levels and for sizes that overflow
// an int.
func Sizeof(typ Type) (int, error) {
	var n int64 = 1
	for range maxResolveDepth {
		if next, ok := unwrap(typ, true); ok {
			typ = next
			continue
		}
		var size int64
		switch v := typ.(type) {
		case *Array:
			if v.Nelems == 0 {
				return 0, nil
			}
			if n > math.MaxInt/int64(v.Nelems) {
				return 0, fmt.Errorf("sizeof %s: overflow", typ)
			}
			n *= int64(v.Nelems)
			typ = v.Type
			continue
		case *Var:
			typ = v.Type
			continue
		case *Pointer:
			size = pointerSize
		case sized:
			size = int64(v.size())
		default:
			return 0, fmt.Errorf("sizeof %s: type has no size", typ)
		}
		if size != 0 && n > math.MaxInt/size {
			return 0, fmt.Errorf("sizeof %s: overflow", typ)
		}
		return int(n * size), nil
	}
	return 0, fmt.Errorf("sizeof %s: %w", typ, errTooDeep)
}

// alignof returns the alignment of typ in bytes: the natural alignment of
// scalars (at most 8, the BPF word), the largest member alignment of
// composites, or 1 for a composite whose layout shows it is packed.
func alignof(typ Type) (int, error) {
	a := aligner{memo: make(map[Type]int)}
	return a.align(typ, 0)
}

// aligner computes alignments with a memo: a composite nested in several
// places is examined once, so hostile graphs cannot make it exponential.
type aligner struct {
	memo map[Type]int
}

func (a *aligner) align(typ Type, depth int) (int, error) {
	if depth > maxResolveDepth {
		return 0, fmt.Errorf("alignof %s: %w", typ, errTooDeep)
	}
	typ = UnderlyingType(typ)
	if n, ok := a.memo[typ]; ok {
		return n, nil
	}
	clamp := func(size uint32) int {
		if size == 0 {
			return 1
		}
		if size > pointerSize {
			return pointerSize
		}
		// Round odd sizes down to a power of two.
		n := 1
		for n*2 <= int(size) {
			n *= 2
		}
		return n
	}
	var n int
	var err error
	switch v := typ.(type) {
	case *Int, *Enum, *Float:
		n = clamp(v.(sized).size())
	case *Pointer:
		n = pointerSize
	case *Array:
		n, err = a.align(v.Type, depth+1)
	case *Struct:
		n, err = a.members(v.Members, v.Size, depth)
	case *Union:
		n, err = a.members(v.Members, v.Size, depth)
	case *Datasec:
		n = 1
	default:
		return 0, fmt.Errorf("alignof %s: type has no alignment", typ)
	}
	if err != nil {
		return 0, err
	}
	a.memo[typ] = n
	return n, nil
}

func (a *aligner) members(members []Member, size uint32, depth int) (int, error) {
	max := 1
	for _, m := range members {
		n, err := a.align(m.Type, depth+1)
		if err != nil {
			return 0, err
		}
		// A member that is not on its natural boundary means the
		// composite is packed.
		if m.BitfieldSize == 0 && m.Offset%Bits(8*n) != 0 {
			return 1, nil
		}
		if n > max {
			max = n
		}
	}
	if size%uint32(max) != 0 {
		return 1, nil
	}
	return max, nil
}
