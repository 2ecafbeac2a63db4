package btf

import (
	"hash/maphash"
	"slices"
)

// deduper finds, for a type about to be added to a Builder, an already
// added type of the same shape.
//
// Two types have the same shape when their own fields (names, sizes,
// offsets, values, tags, linkage) are equal and their children pairwise
// have the same shape. Graphs may be cyclic, so the comparison is
// coinductive: a pair of types under comparison is assumed equal when it is
// met again. Candidates are found by a hash of a type's own fields.
type deduper struct {
	seed   maphash.Seed
	byHash map[uint64][]TypeID
}

func newDeduper() *deduper {
	return &deduper{seed: maphash.MakeSeed(), byHash: make(map[uint64][]TypeID)}
}

func (d *deduper) find(t Type, b *Builder) (TypeID, bool) {
	for _, id := range d.byHash[d.hash(t)] {
		if sameShape(t, b.types[id-1]) {
			return id, true
		}
	}
	return 0, false
}

func (d *deduper) add(t Type, id TypeID) {
	h := d.hash(t)
	d.byHash[h] = append(d.byHash[h], id)
}

// hash covers the kind, name and size of t: enough to make most buckets
// tiny without walking children.
func (d *deduper) hash(t Type) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seed)
	h.WriteString(kindName(t))
	h.WriteByte(0)
	h.WriteString(t.TypeName())
	switch v := t.(type) {
	case *Int:
		h.WriteByte(byte(v.Size))
	case *Struct:
		h.WriteByte(byte(v.Size))
		h.WriteByte(byte(len(v.Members)))
	case *Union:
		h.WriteByte(byte(v.Size))
		h.WriteByte(byte(len(v.Members)))
	case *Enum:
		h.WriteByte(byte(len(v.Values)))
	case *Array:
		h.WriteByte(byte(v.Nelems))
	case *FuncProto:
		h.WriteByte(byte(len(v.Params)))
	}
	return h.Sum64()
}

// sameShape compares two type graphs.
func sameShape(a, b Type) bool {
	type pair struct{ a, b Type }
	assumed := make(map[pair]bool)
	stack := []pair{{a, b}}
	var ca, cb []Type
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if p.a == p.b || assumed[p] {
			continue
		}
		assumed[p] = true
		if !sameFields(p.a, p.b) {
			return false
		}
		ca, cb = childList(p.a, ca[:0]), childList(p.b, cb[:0])
		if len(ca) != len(cb) {
			return false
		}
		for i := range ca {
			stack = append(stack, pair{ca[i], cb[i]})
		}
	}
	return true
}

func childList(t Type, out []Type) []Type {
	children(t, func(c *Type) bool {
		out = append(out, *c)
		return true
	})
	return out
}

// sameFields compares the fields of a and b that are not child types.
func sameFields(a, b Type) bool {
	switch x := a.(type) {
	case *Void:
		_, ok := b.(*Void)
		return ok
	case *Int:
		y, ok := b.(*Int)
		return ok && *x == *y
	case *Pointer:
		_, ok := b.(*Pointer)
		return ok
	case *Array:
		y, ok := b.(*Array)
		return ok && x.Nelems == y.Nelems
	case *Struct:
		y, ok := b.(*Struct)
		return ok && x.Name == y.Name && x.Size == y.Size && slices.Equal(x.Tags, y.Tags) && sameMembers(x.Members, y.Members)
	case *Union:
		y, ok := b.(*Union)
		return ok && x.Name == y.Name && x.Size == y.Size && slices.Equal(x.Tags, y.Tags) && sameMembers(x.Members, y.Members)
	case *Enum:
		y, ok := b.(*Enum)
		return ok && x.Name == y.Name && x.Size == y.Size && x.Signed == y.Signed && slices.Equal(x.Values, y.Values)
	case *Fwd:
		y, ok := b.(*Fwd)
		return ok && *x == *y
	case *Typedef:
		y, ok := b.(*Typedef)
		return ok && x.Name == y.Name && slices.Equal(x.Tags, y.Tags)
	case *Volatile:
		_, ok := b.(*Volatile)
		return ok
	case *Const:
		_, ok := b.(*Const)
		return ok
	case *Restrict:
		_, ok := b.(*Restrict)
		return ok
	case *Func:
		y, ok := b.(*Func)
		return ok && x.Name == y.Name && x.Linkage == y.Linkage && slices.Equal(x.Tags, y.Tags) &&
			slices.EqualFunc(x.ParamTags, y.ParamTags, slices.Equal)
	case *FuncProto:
		y, ok := b.(*FuncProto)
		return ok && slices.EqualFunc(x.Params, y.Params, func(p, q FuncParam) bool { return p.Name == q.Name })
	case *Var:
		y, ok := b.(*Var)
		return ok && x.Name == y.Name && x.Linkage == y.Linkage && slices.Equal(x.Tags, y.Tags)
	case *Datasec:
		y, ok := b.(*Datasec)
		return ok && x.Name == y.Name && x.Size == y.Size && slices.EqualFunc(x.Vars, y.Vars, func(p, q VarSecinfo) bool {
			return p.Offset == q.Offset && p.Size == q.Size
		})
	case *Float:
		y, ok := b.(*Float)
		return ok && *x == *y
	case *DeclTag:
		y, ok := b.(*DeclTag)
		return ok && x.Value == y.Value && x.Index == y.Index
	case *TypeTag:
		y, ok := b.(*TypeTag)
		return ok && x.Value == y.Value
	}
	return false
}

func sameMembers(a, b []Member) bool {
	return slices.EqualFunc(a, b, func(m, n Member) bool {
		return m.Name == n.Name && m.Offset == n.Offset && m.BitfieldSize == n.BitfieldSize && slices.Equal(m.Tags, n.Tags)
	})
}
