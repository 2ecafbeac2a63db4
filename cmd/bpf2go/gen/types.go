package gen

import (
	"cmp"
	"maps"
	"slices"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/btf"
)

// CollectGlobalTypes returns the named structs, unions and enums that the
// object's map keys and values and global variables are made of (for an
// array, its element type), sorted by name, one per name. A typedef of such
// a type is kept as the typedef, since its name may be the only one an
// anonymous struct has; qualifiers are dropped.
func CollectGlobalTypes(spec *ebpf.CollectionSpec) []btf.Type {
	var types []btf.Type
	for _, name := range slices.Sorted(maps.Keys(spec.Maps)) {
		m := spec.Maps[name]
		for _, typ := range []btf.Type{m.Key, m.Value} {
			if typ != nil && typ.TypeName() != "" {
				types = addGlobalType(types, typ)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(spec.Variables)) {
		if v := spec.Variables[name]; v.Type != nil {
			types = addGlobalType(types, v.Type.Type)
		}
	}
	slices.SortStableFunc(types, func(a, b btf.Type) int { return cmp.Compare(a.TypeName(), b.TypeName()) })
	return types
}

func addGlobalType(types []btf.Type, typ btf.Type) []btf.Type {
	typ = declarable(typ, 0)
	if typ == nil {
		return types
	}
	typ = btf.QualifiedType(typ)
	if typ.TypeName() == "" {
		return types
	}
	if slices.ContainsFunc(types, func(t btf.Type) bool { return t.TypeName() == typ.TypeName() }) {
		return types
	}
	return append(types, typ)
}

// declarable returns typ if it is (a typedef of) a struct, union or enum,
// the element type for an array of one, nil otherwise.
func declarable(typ btf.Type, depth int) btf.Type {
	if depth > 32 {
		return nil
	}
	switch u := btf.UnderlyingType(typ).(type) {
	case *btf.Struct, *btf.Union, *btf.Enum:
		return typ
	case *btf.Array:
		return declarable(u.Type, depth+1)
	}
	return nil
}
