package btf

import (
	"fmt"
	"iter"
	"reflect"
	"slices"
	"sync"
)

// Spec is a set of BTF types: those of an ELF object, of the kernel, or of
// a kernel module (split BTF on top of the kernel's).
//
// A Spec decodes lazily. Loading one indexes the raw bytes (one pass over
// the type section); a type is decoded into Go values the first time it is
// asked for, together with every type it references, and stays decoded.
// Types returned by a Spec may be modified; the Spec hands out the same
// values again. Copy gives an independent Spec; LoadKernelSpec, and
// LoadSpec of /sys/kernel/btf/vmlinux, a fresh view of the shared kernel
// index.
//
// A Spec is safe for concurrent use; the Types it returns are not.
type Spec struct {
	raw *rawSpec

	mu    sync.Mutex
	types typeCache
	// ids maps decoded types back to their IDs. It is built the first
	// time TypeID is called and kept up to date afterwards.
	ids map[Type]TypeID
	// slabs allocates decoded types in blocks.
	slabs slabs
}

func newSpec(raw *rawSpec) *Spec {
	if raw == nil {
		return &Spec{}
	}
	return &Spec{raw: raw, types: typeCache{limit: raw.nextID()}}
}

// TypeByID returns the type with the given ID, decoding it (and what it
// references) if this is the first request. For split BTF, IDs of the base
// resolve too. ID 0 is Void.
//
// Returns an error wrapping ErrNotFound if no type has that ID.
func (s *Spec) TypeByID(id TypeID) (Type, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decode(id)
}

// TypeID returns the ID of a type that this Spec returned. Void always has
// ID 0.
//
// Returns an error wrapping ErrNotFound for types that are not part of the
// Spec, including copies of its types.
func (s *Spec) TypeID(typ Type) (TypeID, error) {
	if _, ok := typ.(*Void); ok {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = make(map[Type]TypeID, s.types.n)
		s.types.each(func(id TypeID, t Type) { s.ids[t] = id })
	}
	id, ok := s.ids[typ]
	if !ok {
		return 0, fmt.Errorf("%s: %w", typ, ErrNotFound)
	}
	return id, nil
}

// namedKinds are the kinds whose name is the type's TypeName.
func namedKind(k btfKind) bool {
	switch k {
	case kindInt, kindStruct, kindUnion, kindEnum, kindEnum64, kindFwd, kindTypedef,
		kindFunc, kindVar, kindDatasec, kindFloat:
		return true
	}
	return false
}

// kindsOf maps the Go type a caller asks for to the kinds that decode to it.
func kindsOf(t reflect.Type) (a, b btfKind) {
	switch t {
	case reflect.TypeFor[*Int]():
		return kindInt, kindInt
	case reflect.TypeFor[*Struct]():
		return kindStruct, kindStruct
	case reflect.TypeFor[*Union]():
		return kindUnion, kindUnion
	case reflect.TypeFor[*Enum]():
		return kindEnum, kindEnum64
	case reflect.TypeFor[*Fwd]():
		return kindFwd, kindFwd
	case reflect.TypeFor[*Typedef]():
		return kindTypedef, kindTypedef
	case reflect.TypeFor[*Func]():
		return kindFunc, kindFunc
	case reflect.TypeFor[*Var]():
		return kindVar, kindVar
	case reflect.TypeFor[*Datasec]():
		return kindDatasec, kindDatasec
	case reflect.TypeFor[*Float]():
		return kindFloat, kindFloat
	}
	return kindUnkn, kindUnkn
}

// idsByName returns the IDs of this Spec's own types (not those of a base)
// called exactly name, optionally only of the kinds a or b.
func (s *Spec) idsByName(name string, filter bool, a, b btfKind) []TypeID {
	if name == "" || s.raw == nil {
		return nil
	}
	var ids []TypeID
	if !filter || a != kindFunc {
		ids = s.raw.typesByName(classOther, name)
	}
	if !filter || a == kindFunc {
		ids = append(ids, s.raw.typesByName(classFunc, name)...)
		slices.Sort(ids)
	}
	out := ids[:0]
	for _, id := range ids {
		k, err := s.raw.kindOf(id)
		if err != nil || !namedKind(k) || filter && k != a && k != b {
			continue
		}
		out = append(out, id)
	}
	return out
}

// AnyTypesByName returns all types called name, in ID order. vmlinux can
// hold several different types of one name (from different compilation
// units); split BTF looks only at its own types, not at its base's.
//
// Returns an error wrapping ErrNotFound if there are none.
func (s *Spec) AnyTypesByName(name string) ([]Type, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.idsByName(name, false, 0, 0)
	if len(ids) == 0 {
		return nil, fmt.Errorf("type name %q: %w", name, ErrNotFound)
	}
	types := make([]Type, 0, len(ids))
	for _, id := range ids {
		t, err := s.decode(id)
		if err != nil {
			return nil, err
		}
		types = append(types, t)
	}
	return types, nil
}

// TypesByName returns the types of the Spec (not of a base) whose
// essential name is name: those called name and its CO-RE flavors
// (name___suffix), in ID order. Functions are not included.
//
// Returns an error wrapping ErrNotFound if there are none.
func (s *Spec) TypesByName(name string) ([]Type, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.raw == nil {
		return nil, fmt.Errorf("type name %q: empty Spec: %w", name, ErrNotFound)
	}
	ids := s.raw.typesByEssentialName(essentialName(name))
	var types []Type
	for _, id := range ids {
		if k, err := s.raw.kindOf(id); err != nil || !namedKind(k) {
			continue
		}
		t, err := s.decode(id)
		if err != nil {
			return nil, err
		}
		types = append(types, t)
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("type name %q: %w", name, ErrNotFound)
	}
	return types, nil
}

// AnyTypeByName returns the one type called name.
//
// Returns an error wrapping ErrNotFound if there is none and one wrapping
// ErrMultipleMatches if there are several.
func (s *Spec) AnyTypeByName(name string) (Type, error) {
	types, err := s.AnyTypesByName(name)
	if err != nil {
		return nil, err
	}
	if len(types) > 1 {
		return nil, fmt.Errorf("type name %q: %d types: %w", name, len(types), ErrMultipleMatches)
	}
	return types[0], nil
}

// TypeByName finds the type called name whose Go type is that of *typ and
// stores it in *typ. typ must be a non-nil pointer to a pointer type of this
// package (var s *btf.Struct; spec.TypeByName("task_struct", &s)), or a
// pointer to a Type holding a value of the wanted Go type. Only types of the
// wanted kind are decoded.
//
// Returns an error wrapping ErrNotFound if there is no such type and one
// wrapping ErrMultipleMatches if there are several.
func (s *Spec) TypeByName(name string, typ any) error {
	ptr := reflect.ValueOf(typ)
	if typ == nil || ptr.Kind() != reflect.Pointer || ptr.IsNil() {
		return fmt.Errorf("type argument %T: not a non-nil pointer", typ)
	}
	elem := ptr.Elem()
	wanted := elem.Type()
	typeIface := reflect.TypeFor[Type]()
	if wanted == typeIface {
		if elem.IsNil() {
			return fmt.Errorf("type argument %T points to a nil Type", typ)
		}
		wanted = elem.Elem().Type()
	}
	if !wanted.Implements(typeIface) {
		return fmt.Errorf("type argument %T: %s is not a Type", typ, wanted)
	}
	a, b := kindsOf(wanted)
	if a == kindUnkn {
		return fmt.Errorf("%s %q: %w", wanted, name, ErrNotFound)
	}

	s.mu.Lock()
	ids := s.idsByName(name, true, a, b)
	var found Type
	var err error
	switch len(ids) {
	case 0:
		err = fmt.Errorf("%s %q: %w", wanted, name, ErrNotFound)
	case 1:
		found, err = s.decode(ids[0])
	default:
		err = fmt.Errorf("%s %q: %d types: %w", wanted, name, len(ids), ErrMultipleMatches)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	elem.Set(reflect.ValueOf(found))
	return nil
}

// All iterates over the types of the Spec in ID order, decoding each. For
// split BTF, only the split types are visited. Void (ID 0) is not visited.
// Iteration stops at the first type that fails to decode, after yielding
// its error.
func (s *Spec) All() iter.Seq2[Type, error] {
	return func(yield func(Type, error) bool) {
		if s.raw == nil {
			return
		}
		for id := s.raw.firstID; id < s.raw.nextID(); id++ {
			t, err := s.TypeByID(id)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(t, nil) {
				return
			}
		}
	}
}

// Copy returns an independent Spec. Types already decoded are copied deeply,
// modifications included; the rest decode lazily from the shared, read-only
// index. Copying a Spec of which few types were decoded is cheap.
func (s *Spec) Copy() *Spec {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := newSpec(s.raw)
	cp.types.reserve(s.types.n)
	c := newCopier(nil)
	s.types.each(func(id TypeID, t Type) {
		cp.types.set(id, c.copy(t))
	})
	return cp
}

// firstTypeID is the ID of the first type that belongs to the Spec itself.
func (s *Spec) firstTypeID() TypeID { return s.raw.firstID }

// byteOrder is the byte order the Spec was encoded in.
func (s *Spec) byteOrder() byteOrder { return s.raw.order }
