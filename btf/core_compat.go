package btf

import (
	"errors"
	"fmt"
)

// Three notions of "the same type" from libbpf's CO-RE rules:
//
//   - compatible (type_exists, type_size, target_type_id): same kind after
//     skipping qualifiers and typedefs; composites, enums and forward
//     declarations always qualify, pointers and arrays if their targets
//     do, function prototypes if their parameters and return types do;
//   - field-compatible (the type of a matched member): like compatible,
//     but any composite matches any composite (the members are checked by
//     the access string), enums and forward declarations need equal
//     essential names, and arrays recurse into their element types;
//   - matching (type_matches): much stricter; names, sizes, signedness,
//     array lengths, every local member and enumerator must be found in
//     the target.

// maxCompatDepth bounds the recursion through pointers, arrays and
// prototypes.
const maxCompatDepth = 64

var errTooDeepCompat = errors.New("types nested too deeply or too complex")

// CheckTypeCompatibility reports whether localType and targetType are
// compatible under the CO-RE rules for type relocations; only their layout
// is checked, not the names of the root types. It returns nil if they are,
// an error otherwise.
func CheckTypeCompatibility(localType Type, targetType Type) error {
	ok, err := coreAreTypesCompatible(localType, targetType)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s and %s: %w", localType, targetType, errIncompatibleTypes)
	}
	return nil
}

// compatBudget bounds the work of one comparison: prototypes whose
// parameters are prototypes again (or structs of structs for matching)
// branch at every level, and a hostile graph must not make that
// exponential.
const compatBudget = 1 << 16

func coreAreTypesCompatible(local, target Type) (bool, error) {
	budget := compatBudget
	return coreAreTypesCompatibleBudget(local, target, &budget)
}

func coreAreTypesCompatibleBudget(local, target Type, budget *int) (bool, error) {
	for depth := 0; depth < maxCompatDepth; depth++ {
		if *budget--; *budget <= 0 {
			return false, errTooDeepCompat
		}
		local, target = UnderlyingType(local), UnderlyingType(target)
		if !sameKind(local, target) {
			return false, nil
		}
		switch l := local.(type) {
		case *Void, *Struct, *Union, *Enum, *Fwd:
			return true, nil
		case *Int:
			return true, nil
		case *Float:
			// libbpf treats floats like unknown kinds here.
			return false, nil
		case *Pointer:
			local, target = l.Target, target.(*Pointer).Target
		case *Array:
			local, target = l.Type, target.(*Array).Type
		case *FuncProto:
			t := target.(*FuncProto)
			if len(l.Params) != len(t.Params) {
				return false, nil
			}
			for i := range l.Params {
				ok, err := coreAreTypesCompatibleBudget(l.Params[i].Type, t.Params[i].Type, budget)
				if err != nil || !ok {
					return ok, err
				}
			}
			local, target = l.Return, t.Return
		default:
			return false, nil
		}
	}
	return false, errTooDeepCompat
}

func coreFieldsCompatible(local, target Type) (bool, error) {
	for depth := 0; depth < maxCompatDepth; depth++ {
		local, target = UnderlyingType(local), UnderlyingType(target)
		_, lc := compositeMembers(local)
		_, tc := compositeMembers(target)
		if lc && tc {
			return true, nil
		}
		if !sameKind(local, target) {
			return false, nil
		}
		switch l := local.(type) {
		case *Pointer, *Float:
			return true, nil
		case *Fwd, *Enum:
			return essentialName(l.TypeName()) == essentialName(target.TypeName()), nil
		case *Int:
			return true, nil
		case *Array:
			local, target = l.Type, target.(*Array).Type
		default:
			return false, nil
		}
	}
	return false, errTooDeepCompat
}

// coreNamesMatch compares names as type_matches does: an empty name
// matches anything, otherwise the essential names must be equal.
func coreNamesMatch(a, b string) bool {
	if a == "" || b == "" {
		return true
	}
	return essentialName(a) == essentialName(b)
}

func coreTypesMatch(local, target Type) (bool, error) {
	budget := compatBudget
	return coreTypesMatchDepth(local, target, false, 0, &budget)
}

func coreTypesMatchDepth(local, target Type, behindPtr bool, depth int, budget *int) (bool, error) {
	for ; depth < maxCompatDepth; depth++ {
		if *budget--; *budget <= 0 {
			return false, errTooDeepCompat
		}
		local, target = UnderlyingType(local), UnderlyingType(target)
		if !coreNamesMatch(local.TypeName(), target.TypeName()) {
			return false, nil
		}
		switch l := local.(type) {
		case *Void:
			_, ok := target.(*Void)
			return ok, nil
		case *Fwd:
			switch t := target.(type) {
			case *Fwd:
				return l.Kind == t.Kind, nil
			case *Struct:
				return behindPtr && l.Kind == FwdStruct, nil
			case *Union:
				return behindPtr && l.Kind == FwdUnion, nil
			}
			return false, nil
		case *Enum:
			t, ok := target.(*Enum)
			if !ok || l.Size != t.Size || len(l.Values) > len(t.Values) {
				return false, nil
			}
			for _, lv := range l.Values {
				found := false
				for _, tv := range t.Values {
					if coreNamesMatch(lv.Name, tv.Name) {
						found = true
						break
					}
				}
				if !found {
					return false, nil
				}
			}
			return true, nil
		case *Struct, *Union:
			if behindPtr {
				if sameKind(local, target) {
					return true, nil
				}
				fwd, ok := target.(*Fwd)
				_, isUnion := local.(*Union)
				return ok && (fwd.Kind == FwdUnion) == isUnion, nil
			}
			if !sameKind(local, target) {
				return false, nil
			}
			lm, _ := compositeMembers(local)
			tm, _ := compositeMembers(target)
			if len(lm) > len(tm) {
				return false, nil
			}
			for _, m := range lm {
				found := false
				for _, n := range tm {
					if !coreNamesMatch(m.Name, n.Name) {
						continue
					}
					ok, err := coreTypesMatchDepth(m.Type, n.Type, behindPtr, depth+1, budget)
					if err != nil {
						return false, err
					}
					if ok {
						found = true
						break
					}
				}
				if !found {
					return false, nil
				}
			}
			return true, nil
		case *Int:
			t, ok := target.(*Int)
			return ok && l.Size == t.Size && (l.Encoding == Signed) == (t.Encoding == Signed), nil
		case *Pointer:
			t, ok := target.(*Pointer)
			if !ok {
				return false, nil
			}
			behindPtr = true
			local, target = l.Target, t.Target
		case *Array:
			t, ok := target.(*Array)
			if !ok || l.Nelems != t.Nelems {
				return false, nil
			}
			local, target = l.Type, t.Type
		case *FuncProto:
			t, ok := target.(*FuncProto)
			if !ok || len(l.Params) != len(t.Params) {
				return false, nil
			}
			for i := range l.Params {
				ok, err := coreTypesMatchDepth(l.Params[i].Type, t.Params[i].Type, behindPtr, depth+1, budget)
				if err != nil || !ok {
					return ok, err
				}
			}
			local, target = l.Return, t.Return
		default:
			return false, nil
		}
	}
	return false, errTooDeepCompat
}
