package btf

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Minimal CO-RE BTF (what `bpftool gen min_core_btf` makes, after BTFGen):
// the part of a kernel's types that the CO-RE relocations of some objects
// read, so that it can be shipped for kernels without BTF or used as
// ProgramOptions.KernelTypes. The relocations are matched against the full
// types with the same code that relocates them (core_spec.go), and every
// part of a target type that a decision looked at is kept:
//
//   - field relocations: the members on the access path (anonymous ones
//     included) and their types' size, kind and signedness;
//   - type_exists, type_size, target_type_id: the root, and the kinds along
//     its pointers, arrays and prototypes that compatibility compares;
//   - type_matches: the members and enumerators that matched local ones,
//     recursively, composites behind pointers as names only;
//   - enum values: the matched enumerator.
//
// Everything else goes: other members and enumerators, typedefs and
// qualifiers that are not themselves relocated (members point to the
// underlying type), decl tags, and pointer targets nothing compares (they
// become void). Matching only gets harder with fewer members, so a
// relocation that found no target still finds none, and one that found
// one finds the same values.

// MinimizeForCORE returns a Builder holding the smallest part of target
// that resolves each of relos as target does: the same field offsets and
// sizes, existence, signedness, bitfield shifts, type sizes and enum values.
// Type IDs are those of the smaller BTF, so target_type_id relocations name
// the same type under another ID. Use the Builder's Spec as
// ProgramOptions.KernelTypes, or its Marshal output as a .btf file.
//
// Relocations come from the CORERelocationMetadata of an object's
// instructions. A relocation that matches several target types keeps
// them all, so an ambiguous relocation stays ambiguous.
func MinimizeForCORE(target *Spec, relos []*CORERelocation) (*Builder, error) {
	if target == nil {
		return nil, errors.New("no target BTF")
	}
	m := &coreMinimizer{kept: map[Type]*keptType{}, walked: map[Type]bool{}, matched: map[matchKey]bool{}}
	cands := map[Type][]coreCandidate{}
	for i, relo := range relos {
		if relo == nil || relo.typ == nil {
			return nil, fmt.Errorf("CO-RE relocation %d: nil", i)
		}
		if relo.kind == coreTypeIdLocal {
			continue
		}
		cs, ok := cands[relo.typ]
		if !ok {
			var err error
			if cs, err = findCandidates(relo.typ, []*Spec{target}); err != nil {
				return nil, fmt.Errorf("%s: %w", relo, err)
			}
			cands[relo.typ] = cs
		}
		local, err := parseCOREAccess(relo.typ, relo.accessor, relo.kind)
		if err != nil {
			return nil, fmt.Errorf("%s: parse access string: %w", relo, err)
		}
		for _, cand := range cs {
			found, err := local.match(cand.typ)
			if errors.Is(err, errNoMatch) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s: candidate %s: %w", relo, cand.typ, err)
			}
			if err := m.keepRelocation(relo, local, found, cand.typ); err != nil {
				return nil, fmt.Errorf("%s: candidate %s: %w", relo, cand.typ, err)
			}
		}
	}
	return m.build(target)
}

// keptType is what stays of a target type: for structs and unions the
// members, for enums the enumerators, given by index.
type keptType struct {
	parts map[int]bool
	// root: a relocation names this type; a typedef is kept only then.
	root bool
}

type coreMinimizer struct {
	kept map[Type]*keptType
	// walked are the types keepCompat went through, matched the pairs
	// keepMatch did: graphs may be cyclic.
	walked  map[Type]bool
	matched map[matchKey]bool
}

type matchKey struct {
	local, target Type
	behindPtr     bool
}

func (m *coreMinimizer) keep(t Type) *keptType {
	k, ok := m.kept[t]
	if !ok {
		k = &keptType{}
		m.kept[t] = k
	}
	return k
}

func (m *coreMinimizer) keepPart(t Type, i int) {
	k := m.keep(t)
	if k.parts == nil {
		k.parts = map[int]bool{}
	}
	k.parts[i] = true
}

func (m *coreMinimizer) keepRelocation(relo *CORERelocation, local, found *coreSpec, root Type) error {
	m.keep(root).root = true
	switch {
	case relo.kind.fieldBased():
		return m.keepPath(root, found.raw)
	case relo.kind == coreTypeMatches:
		return m.keepMatch(relo.typ, root, false, 0)
	case relo.kind.typeBased():
		return m.keepCompat(root, 0)
	case relo.kind.enumBased():
		m.keepPart(found.accesses[0].typ, found.accesses[0].index)
		return nil
	}
	return fmt.Errorf("unsupported relocation kind %s", relo.kind)
}

// keepPath keeps the members and array elements a field access goes
// through, raw being the target's access string (anonymous members
// included).
func (m *coreMinimizer) keepPath(root Type, raw coreAccessor) error {
	t := root
	if err := m.keepValue(t, 0); err != nil {
		return err
	}
	for i := 1; i < len(raw); i++ {
		t = UnderlyingType(t)
		switch v := t.(type) {
		case *Struct, *Union:
			members, _ := compositeMembers(v)
			if raw[i] >= len(members) {
				return fmt.Errorf("access %s: no member %d in %s", raw, raw[i], v)
			}
			m.keepPart(v, raw[i])
			t = members[raw[i]].Type
		case *Array:
			t = v.Type
		default:
			return fmt.Errorf("access %s: %s is neither composite nor array", raw, t)
		}
		if err := m.keepValue(t, 0); err != nil {
			return err
		}
	}
	return nil
}

// keepValue keeps what a field of type t needs to be found compatible and
// sized: its kind, size and signedness; an array's element and index
// types; a composite's size (its members only as accessed).
func (m *coreMinimizer) keepValue(t Type, depth int) error {
	if depth > maxCompatDepth {
		return errTooDeepCompat
	}
	t = UnderlyingType(t)
	switch v := t.(type) {
	case *Void:
		return nil
	case *Array:
		m.keep(v)
		if err := m.keepValue(v.Index, depth+1); err != nil {
			return err
		}
		return m.keepValue(v.Type, depth+1)
	}
	m.keep(t)
	return nil
}

// keepCompat keeps what coreAreTypesCompatible and Sizeof look at: kinds
// through pointers, arrays and prototypes, and sizes.
func (m *coreMinimizer) keepCompat(t Type, depth int) error {
	if depth > maxCompatDepth {
		return errTooDeepCompat
	}
	if m.walked[t] {
		return nil
	}
	m.walked[t] = true
	m.keep(t)
	t = UnderlyingType(t)
	m.keep(t)
	switch v := t.(type) {
	case *Pointer:
		return m.keepCompat(v.Target, depth+1)
	case *Array:
		if err := m.keepValue(v.Index, depth+1); err != nil {
			return err
		}
		return m.keepCompat(v.Type, depth+1)
	case *FuncProto:
		if err := m.keepCompat(v.Return, depth+1); err != nil {
			return err
		}
		for _, p := range v.Params {
			if err := m.keepCompat(p.Type, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// keepMatch keeps the parts of target that coreTypesMatch found matching
// local's: for each local member the first target member it matched, for
// each local enumerator the first target one, through pointers and
// arrays; composites behind a pointer match by name and kind only.
func (m *coreMinimizer) keepMatch(local, target Type, behindPtr bool, depth int) error {
	if depth > maxCompatDepth {
		return errTooDeepCompat
	}
	local, target = UnderlyingType(local), UnderlyingType(target)
	m.keep(target)
	key := matchKey{local, target, behindPtr}
	if m.matched[key] {
		return nil
	}
	m.matched[key] = true
	switch t := target.(type) {
	case *Struct, *Union:
		if behindPtr {
			return nil
		}
		lm, ok := compositeMembers(local)
		if !ok {
			return nil
		}
		tm, _ := compositeMembers(t)
		for _, l := range lm {
			for j, n := range tm {
				if !coreNamesMatch(l.Name, n.Name) {
					continue
				}
				budget := compatBudget
				ok, err := coreTypesMatchDepth(l.Type, n.Type, behindPtr, depth+1, &budget)
				if err != nil {
					return err
				}
				if ok {
					m.keepPart(t, j)
					if err := m.keepMatch(l.Type, n.Type, behindPtr, depth+1); err != nil {
						return err
					}
					break
				}
			}
		}
	case *Enum:
		l, ok := local.(*Enum)
		if !ok {
			return nil
		}
		for _, lv := range l.Values {
			for j, tv := range t.Values {
				if coreNamesMatch(lv.Name, tv.Name) {
					m.keepPart(t, j)
					break
				}
			}
		}
	case *Pointer:
		if l, ok := local.(*Pointer); ok {
			return m.keepMatch(l.Target, t.Target, true, depth+1)
		}
	case *Array:
		if err := m.keepValue(t.Index, depth+1); err != nil {
			return err
		}
		if l, ok := local.(*Array); ok {
			return m.keepMatch(l.Type, t.Type, behindPtr, depth+1)
		}
	case *FuncProto:
		l, ok := local.(*FuncProto)
		if !ok || len(l.Params) != len(t.Params) {
			return nil
		}
		for i := range l.Params {
			if err := m.keepMatch(l.Params[i].Type, t.Params[i].Type, behindPtr, depth+1); err != nil {
				return err
			}
		}
		return m.keepMatch(l.Return, t.Return, behindPtr, depth+1)
	}
	return nil
}

// build copies the kept types, in the order of their IDs in target, with
// only their kept parts.
func (m *coreMinimizer) build(target *Spec) (*Builder, error) {
	type ordered struct {
		orig Type
		id   TypeID
	}
	var order []ordered
	for t, k := range m.kept {
		if _, ok := t.(*Void); ok {
			continue
		}
		if _, ok := t.(*Typedef); ok && !k.root {
			continue
		}
		if isQualifier(t) {
			continue
		}
		id, err := target.TypeID(t)
		if err != nil {
			return nil, err
		}
		order = append(order, ordered{t, id})
	}
	slices.SortFunc(order, func(a, b ordered) int { return cmp.Compare(a.id, b.id) })

	copies := make(map[Type]Type, len(order))
	for _, o := range order {
		var c Type
		switch v := o.orig.(type) {
		case *Struct:
			c = &Struct{Name: v.Name, Size: v.Size, Members: m.keptMembers(v, v.Members)}
		case *Union:
			c = &Union{Name: v.Name, Size: v.Size, Members: m.keptMembers(v, v.Members)}
		case *Enum:
			e := &Enum{Name: v.Name, Size: v.Size, Signed: v.Signed}
			for i, ev := range v.Values {
				if m.kept[v].parts[i] {
					e.Values = append(e.Values, ev)
				}
			}
			c = e
		case *Pointer:
			c = &Pointer{Target: v.Target}
		case *Array:
			c = &Array{Index: v.Index, Type: v.Type, Nelems: v.Nelems}
		case *Typedef:
			c = &Typedef{Name: v.Name, Type: v.Type}
		case *FuncProto:
			// Parameter names play no part in CO-RE.
			fp := &FuncProto{Return: v.Return}
			for _, p := range v.Params {
				fp.Params = append(fp.Params, FuncParam{Type: p.Type})
			}
			c = fp
		case *Int:
			cp := *v
			c = &cp
		case *Float:
			cp := *v
			c = &cp
		case *Fwd:
			cp := *v
			c = &cp
		default:
			return nil, fmt.Errorf("%s: unexpected type in minimal CO-RE BTF", o.orig)
		}
		copies[o.orig] = c
	}
	// Point the copies' children at copies: through typedefs and
	// qualifiers that were dropped, and at void where nothing was kept.
	resolve := func(t Type) Type {
		for range maxResolveDepth {
			if c, ok := copies[t]; ok {
				return c
			}
			next, ok := unwrap(t, true)
			if !ok {
				break
			}
			t = next
		}
		return &Void{}
	}
	types := make([]Type, 0, len(order))
	for _, o := range order {
		c := copies[o.orig]
		children(c, func(child *Type) bool {
			*child = resolve(*child)
			return true
		})
		types = append(types, c)
	}
	return NewBuilder(types, nil)
}

func isQualifier(t Type) bool {
	switch t.(type) {
	case *Const, *Volatile, *Restrict, *TypeTag:
		return true
	}
	return false
}

func (m *coreMinimizer) keptMembers(t Type, members []Member) []Member {
	var out []Member
	for i, mb := range members {
		if m.kept[t].parts[i] {
			out = append(out, Member{Name: mb.Name, Type: mb.Type, Offset: mb.Offset, BitfieldSize: mb.BitfieldSize})
		}
	}
	return out
}
