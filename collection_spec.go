package ebpf

import (
	"encoding/binary"
	"fmt"
	"reflect"

	"github.com/bpfkit/ebpf/btf"
)

// CollectionSpec is the blueprint of a BPF object: its maps, programs,
// global variables and types. LoadCollectionSpec reads one from an ELF
// file; NewCollection loads it.
type CollectionSpec struct {
	Maps      map[string]*MapSpec
	Programs  map[string]*ProgramSpec
	Variables map[string]*VariableSpec

	// Types holds the object's BTF, if any. Specs treat it as read-only:
	// copies share it.
	Types *btf.Spec

	// ByteOrder the object was compiled for.
	ByteOrder binary.ByteOrder
}

// Copy returns a copy of the spec whose maps, programs and variables may be
// changed without affecting cs. BTF is shared, which keeps copying cheap.
func (cs *CollectionSpec) Copy() *CollectionSpec {
	if cs == nil {
		return nil
	}
	return &CollectionSpec{
		Maps:      copySpecs(cs.Maps),
		Programs:  copySpecs(cs.Programs),
		Variables: copySpecs(cs.Variables),
		Types:     cs.Types,
		ByteOrder: cs.ByteOrder,
	}
}

func copySpecs[T interface{ Copy() T }](m map[string]T) map[string]T {
	if m == nil {
		return nil
	}
	cpy := make(map[string]T, len(m))
	for name, spec := range m {
		cpy[name] = spec.Copy()
	}
	return cpy
}

// Assign sets the fields of the struct that to points at from the spec.
// Each field with an `ebpf:"name"` tag must be a *ProgramSpec, *MapSpec or
// *VariableSpec, and receives the spec of that name. Fields without the tag
// are left alone; embedded structs are walked.
//
// It fails, naming the field, if a name is missing or a spec would be
// assigned twice.
func (cs *CollectionSpec) Assign(to any) error {
	return assignValues(to, func(field reflect.StructField, name string) (any, error) {
		switch field.Type {
		case reflect.TypeOf((*ProgramSpec)(nil)):
			if p := cs.Programs[name]; p != nil {
				return p, nil
			}
			return nil, fmt.Errorf("missing program %q", name)
		case reflect.TypeOf((*MapSpec)(nil)):
			if m := cs.Maps[name]; m != nil {
				return m, nil
			}
			return nil, fmt.Errorf("missing map %q", name)
		case reflect.TypeOf((*VariableSpec)(nil)):
			if v := cs.Variables[name]; v != nil {
				return v, nil
			}
			return nil, fmt.Errorf("missing variable %q", name)
		}
		return nil, fmt.Errorf("unsupported type %s", field.Type)
	})
}

// structField is one `ebpf`-tagged field found by assignValues.
type structField struct {
	reflect.StructField
	value reflect.Value
	tag   string
}

// taggedFields returns the `ebpf`-tagged fields of the struct that to
// points at, including those of embedded structs, in declaration order.
func taggedFields(to any) ([]structField, error) {
	v := reflect.ValueOf(to)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("%T is not a pointer to a struct", to)
	}
	var fields []structField
	var walk func(v reflect.Value, seen map[reflect.Type]bool) error
	walk = func(v reflect.Value, seen map[reflect.Type]bool) error {
		t := v.Type()
		if seen[t] {
			return fmt.Errorf("recursive embedding of %s", t)
		}
		seen[t] = true
		defer delete(seen, t)
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, ok := f.Tag.Lookup("ebpf")
			if ok {
				if !f.IsExported() {
					return fmt.Errorf("field %s: tagged but not exported", f.Name)
				}
				fields = append(fields, structField{f, v.Field(i), tag})
				continue
			}
			if f.Anonymous {
				fv := v.Field(i)
				if fv.Kind() == reflect.Pointer {
					if fv.IsNil() {
						// Nothing we could fill in without allocating on the
						// caller's behalf; skip like an untagged field.
						continue
					}
					fv = fv.Elem()
				}
				if fv.Kind() == reflect.Struct {
					if err := walk(fv, seen); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if err := walk(v.Elem(), map[reflect.Type]bool{}); err != nil {
		return nil, err
	}
	return fields, nil
}

// assignValues fills every tagged field of to with what get returns for
// it. It assigns nothing unless every field can be assigned.
func assignValues(to any, get func(field reflect.StructField, name string) (any, error)) error {
	fields, err := taggedFields(to)
	if err != nil {
		return err
	}
	type key struct {
		typ  reflect.Type
		name string
	}
	assigned := map[key]string{}
	values := make([]reflect.Value, len(fields))
	for i, f := range fields {
		k := key{f.Type, f.tag}
		if prev, ok := assigned[k]; ok {
			return fmt.Errorf("field %s: %q is already assigned to field %s", f.Name, f.tag, prev)
		}
		value, err := get(f.StructField, f.tag)
		if err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
		assigned[k] = f.Name
		values[i] = reflect.ValueOf(value)
	}
	for i, f := range fields {
		f.value.Set(values[i])
	}
	return nil
}
