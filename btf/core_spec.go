package btf

import (
	"errors"
	"fmt"
	"strings"
)

// A coreSpec is an access string resolved against a type (libbpf's struct
// bpf_core_spec): the list of accesses it makes and the bit offset it ends
// at. Accesses are the array indices and the named members on the path;
// anonymous members in between only count towards raw and bitOffset.

// maxSpecLen bounds the nesting of an access (libbpf's
// BPF_CORE_SPEC_MAX_LEN).
const maxSpecLen = 64

var errNoMatch = errors.New("no match")

type coreAccess struct {
	// typ is the composite holding a named member, or the element type
	// of an array access (and the root for the first access).
	typ   Type
	index int
	// name is the member's or enumerator's name, "" for array accesses.
	name string
}

type coreSpec struct {
	root      Type
	rootID    TypeID
	kind      coreKind
	accesses  []coreAccess
	raw       coreAccessor
	bitOffset uint64
	// steps counts matchMember calls, to bound the search through
	// anonymous members of a hostile target.
	steps int
}

// compositeMembers returns the members of a struct or union.
func compositeMembers(t Type) ([]Member, bool) {
	switch v := t.(type) {
	case *Struct:
		return v.Members, true
	case *Union:
		return v.Members, true
	}
	return nil, false
}

// parseCOREAccess resolves a local access string.
func parseCOREAccess(root Type, acc coreAccessor, kind coreKind) (*coreSpec, error) {
	spec := &coreSpec{root: root, kind: kind, raw: acc}
	if len(acc) == 0 {
		return nil, errors.New("empty access string")
	}
	if len(acc) > maxSpecLen {
		return nil, fmt.Errorf("access string longer than %d", maxSpecLen)
	}
	if kind.typeBased() {
		if len(acc) != 1 || acc[0] != 0 {
			return nil, fmt.Errorf("type relocation with access %s, want 0", acc)
		}
		return spec, nil
	}
	t := UnderlyingType(root)
	if kind.enumBased() {
		e, ok := t.(*Enum)
		if !ok {
			return nil, fmt.Errorf("enum relocation on %s", root)
		}
		if len(acc) != 1 || acc[0] >= len(e.Values) {
			return nil, fmt.Errorf("enum relocation with access %s on %d values", acc, len(e.Values))
		}
		spec.accesses = []coreAccess{{typ: e, index: acc[0], name: e.Values[acc[0]].Name}}
		return spec, nil
	}
	if !kind.fieldBased() {
		return nil, fmt.Errorf("unsupported relocation kind %s", kind)
	}

	size, err := Sizeof(t)
	if err != nil {
		return nil, err
	}
	spec.accesses = append(spec.accesses, coreAccess{typ: t, index: acc[0]})
	spec.bitOffset = uint64(acc[0]) * uint64(size) * 8
	for i := 1; i < len(acc); i++ {
		t = UnderlyingType(t)
		idx := acc[i]
		switch v := t.(type) {
		case *Struct, *Union:
			members, _ := compositeMembers(v)
			if idx >= len(members) {
				return nil, fmt.Errorf("access %d: member %d of %s with %d members", i, idx, t, len(members))
			}
			m := members[idx]
			spec.bitOffset += uint64(m.Offset)
			if m.Name != "" {
				spec.accesses = append(spec.accesses, coreAccess{typ: t, index: idx, name: m.Name})
			}
			t = m.Type
		case *Array:
			elem := UnderlyingType(v.Type)
			if !isFlexArray(spec.accesses[len(spec.accesses)-1], v) && uint32(idx) >= v.Nelems {
				return nil, fmt.Errorf("access %d: index %d of %s with %d elements", i, idx, t, v.Nelems)
			}
			size, err := Sizeof(elem)
			if err != nil {
				return nil, err
			}
			spec.accesses = append(spec.accesses, coreAccess{typ: elem, index: idx})
			spec.bitOffset += uint64(idx) * uint64(size) * 8
			t = elem
		default:
			return nil, fmt.Errorf("access %d: %s is neither composite nor array", i, t)
		}
	}
	return spec, nil
}

// isFlexArray reports whether arr is a flexible array member: the last
// member of its struct, of zero length. prev is the access that reached it.
func isFlexArray(prev coreAccess, arr *Array) bool {
	if prev.name == "" || arr.Nelems > 0 {
		return false
	}
	members, ok := compositeMembers(prev.typ)
	return ok && prev.index == len(members)-1
}

// match resolves the local spec s against a candidate target type. It
// returns errNoMatch if the candidate does not have the accessed fields (or
// is incompatible).
func (s *coreSpec) match(cand Type) (*coreSpec, error) {
	target := &coreSpec{root: cand, kind: s.kind}
	switch {
	case s.kind.typeBased():
		var ok bool
		var err error
		if s.kind == coreTypeMatches {
			ok, err = coreTypesMatch(s.root, cand)
		} else {
			ok, err = coreAreTypesCompatible(s.root, cand)
		}
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errNoMatch
		}
		return target, nil

	case s.kind.enumBased():
		e, ok := UnderlyingType(cand).(*Enum)
		if !ok {
			return nil, errNoMatch
		}
		want := essentialName(s.accesses[0].name)
		for i, v := range e.Values {
			if essentialName(v.Name) == want {
				target.accesses = []coreAccess{{typ: e, index: i, name: v.Name}}
				target.raw = coreAccessor{i}
				return target, nil
			}
		}
		return nil, errNoMatch
	}

	t := cand
	for i, la := range s.accesses {
		t = UnderlyingType(t)
		if la.name != "" {
			members, _ := compositeMembers(la.typ)
			next, err := target.matchMember(la, members[la.index].Type, t)
			if err != nil {
				return nil, err
			}
			t = next
			continue
		}
		if i > 0 {
			arr, ok := t.(*Array)
			if !ok {
				return nil, errNoMatch
			}
			if !isFlexArray(target.accesses[len(target.accesses)-1], arr) && uint32(la.index) >= arr.Nelems {
				return nil, errNoMatch
			}
			t = UnderlyingType(arr.Type)
		}
		if len(target.raw) >= maxSpecLen {
			return nil, fmt.Errorf("target access deeper than %d", maxSpecLen)
		}
		size, err := Sizeof(t)
		if err != nil {
			return nil, err
		}
		target.accesses = append(target.accesses, coreAccess{typ: t, index: la.index})
		target.raw = append(target.raw, la.index)
		target.bitOffset += uint64(la.index) * uint64(size) * 8
	}
	return target, nil
}

// matchMember finds the member named like la in the target composite t,
// looking into anonymous members, and returns its type.
func (s *coreSpec) matchMember(la coreAccess, localType, t Type) (Type, error) {
	if s.steps++; s.steps > compatBudget {
		return nil, errTooDeepCompat
	}
	t = UnderlyingType(t)
	members, ok := compositeMembers(t)
	if !ok {
		return nil, errNoMatch
	}
	for i, m := range members {
		if len(s.raw) >= maxSpecLen {
			return nil, fmt.Errorf("target access deeper than %d", maxSpecLen)
		}
		s.bitOffset += uint64(m.Offset)
		s.raw = append(s.raw, i)
		if m.Name == "" {
			next, err := s.matchMember(la, localType, m.Type)
			if err == nil || !errors.Is(err, errNoMatch) {
				return next, err
			}
		} else if m.Name == la.name {
			ok, err := coreFieldsCompatible(localType, m.Type)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, errNoMatch
			}
			s.accesses = append(s.accesses, coreAccess{typ: t, index: i, name: m.Name})
			return m.Type, nil
		}
		s.bitOffset -= uint64(m.Offset)
		s.raw = s.raw[:len(s.raw)-1]
	}
	return nil, errNoMatch
}

// path renders the field path of s like C: ".cred->uid" is not known to
// BTF, so members are joined with dots and array indices in brackets.
func (s *coreSpec) path() string {
	var b strings.Builder
	for i, a := range s.accesses {
		switch {
		case s.kind.enumBased():
			b.WriteString("::" + a.name)
		case a.name != "":
			b.WriteString("." + a.name)
		case i > 0 || a.index != 0:
			fmt.Fprintf(&b, "[%d]", a.index)
		}
	}
	return b.String()
}
