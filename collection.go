package ebpf

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/bpfkit/ebpf/btf"
)

// A Collection is what loading a CollectionSpec gives: the maps, programs
// and global variables of one BPF object, live in the kernel. The loader
// that builds it is in collection_loader.go; .kconfig externs are filled in
// collection_kconfig.go, struct_ops maps in struct_ops.go and variables are
// in variable.go.

// CollectionOptions control loading a collection.
type CollectionOptions struct {
	// Maps are the options every map is created with (pinning).
	Maps MapOptions
	// Programs are the options every program is loaded with (verifier
	// log, kernel types for CO-RE).
	Programs ProgramOptions

	// MapReplacements are maps to use instead of creating the spec's map
	// of the same name. Each must be compatible with its MapSpec (see
	// MapSpec.Compatible: type, sizes, capacity and flags, including the
	// BPF_F_MMAPABLE the loader adds to data sections where the kernel
	// supports it) and is neither filled nor pinned. The collection uses a
	// clone, so the caller keeps ownership of the map it passed.
	MapReplacements map[string]*Map

	// Cache shares decoded kernel BTF between loads. Programs of one
	// collection always share one; pass a Cache (btf.NewCache) to share
	// it between several collections too. Nil makes one per load.
	Cache *btf.Cache
}

// Collection is a loaded BPF object: its maps, programs and global
// variables, by name. The Collection owns them until Close, Assign,
// DetachMap or DetachProgram hands them to the caller.
type Collection struct {
	Programs map[string]*Program
	Maps     map[string]*Map

	// Variables are the object's global variables, read and written in
	// place through the memory of their data section's map (BPF_F_MMAPABLE,
	// Linux 5.5). On older kernels the Variables exist but Set and Get
	// return errors wrapping ErrNotSupported.
	Variables map[string]*Variable
}

// NewCollection loads spec with default options; see
// NewCollectionWithOptions.
//
// Call Close on the result once it is no longer needed: the maps and
// programs stay in the kernel as long as the Collection's descriptors
// (or pins and links) exist.
func NewCollection(spec *CollectionSpec) (*Collection, error) {
	return NewCollectionWithOptions(spec, CollectionOptions{})
}

// NewCollectionWithOptions creates every map of spec, loads every program
// (skipping those of unspecified type, which the kernel can't load), and
// returns them with the object's global variables.
//
// Maps are created in the order of their names, then programs are loaded
// in the order of theirs, so the same failure always gives the same
// error. Data section maps get BPF_F_MMAPABLE where the kernel has it
// (5.5) and their contents from the spec's VariableSpecs; read-only ones
// (.rodata) are frozen before any program is verified. .kconfig externs
// are filled from the running kernel before the programs that read them
// load. Program arrays, maps of maps and struct_ops maps are filled once
// every program exists. All programs share one parse of the kernel's BTF
// (opts.Cache).
//
// Filling a struct_ops map of .struct_ops registers it with its kernel
// subsystem (Linux 5.6), and the registration keeps the map alive after
// Close: unregister it with Map.Delete(uint32(0)). Maps of
// .struct_ops.link (Linux 6.4) are registered by link.AttachStructOps
// instead.
//
// Cost: one BPF_MAP_CREATE per map (plus the BTF it needs), one update per
// initial entry, one verifier run per program, one mmap per data section.
//
// On error nothing is left open and the error names the map, program or
// extern that failed; a program the verifier rejects gives a
// *VerifierError.
func NewCollectionWithOptions(spec *CollectionSpec, opts CollectionOptions) (*Collection, error) {
	if spec == nil {
		return nil, errors.New("can't load a nil CollectionSpec")
	}
	cl, err := newCollectionLoader(spec, &opts)
	if err != nil {
		return nil, err
	}
	defer cl.close()

	for _, name := range sortedKeys(spec.Maps) {
		if _, err := cl.loadMap(name); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(spec.Programs) {
		if spec.Programs[name].Type == UnspecifiedProgram {
			continue
		}
		if _, err := cl.loadProgram(name); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(spec.Variables) {
		if _, err := cl.loadVariable(name); err != nil {
			return nil, err
		}
	}
	if err := cl.populateDeferred(); err != nil {
		return nil, err
	}

	coll := &Collection{Programs: cl.programs, Maps: cl.maps, Variables: cl.vars}
	// The collection owns them now: close must leave them alone.
	cl.programs, cl.maps, cl.vars = nil, nil, nil
	return coll, nil
}

// LoadCollection reads the BPF object at file and loads it: it is
// LoadCollectionSpec followed by NewCollection.
func LoadCollection(file string) (*Collection, error) {
	spec, err := LoadCollectionSpec(file)
	if err != nil {
		return nil, err
	}
	return NewCollection(spec)
}

// LoadAndAssign loads only what the struct that to points at asks for, plus
// what that needs, and assigns it. Each field with an `ebpf:"name"` tag
// must be a *Program, *Map or *Variable and receives the object of that
// name; embedded structs are walked, untagged fields are left alone:
//
//	var objs struct {
//		Count   *ebpf.Program  `ebpf:"xdp_count"`
//		Packets *ebpf.Map      `ebpf:"packets"`
//		Limit   *ebpf.Variable `ebpf:"limit"`
//	}
//	err := spec.LoadAndAssign(&objs, nil)
//
// Dependencies are loaded too: the maps and data sections a program uses,
// the data section of a variable, the inner maps a map of maps holds and
// the programs a program array or struct_ops map holds. Dependencies that
// aren't assigned are closed again once loading is done (the programs
// using them keep them alive), except that a program array with initial
// contents must be assigned: closing its last descriptor would empty it.
//
// It assigns nothing on error (a missing name, a field of another type, a
// name assigned twice, or a load that fails), and then leaves nothing
// open. The caller owns what was assigned and closes it. opts may be nil.
//
// Cost: that of NewCollectionWithOptions for the objects it loads; what
// the struct doesn't need is never created.
func (cs *CollectionSpec) LoadAndAssign(to any, opts *CollectionOptions) error {
	if opts == nil {
		opts = &CollectionOptions{}
	}
	fields, err := taggedFields(to)
	if err != nil {
		return err
	}
	cl, err := newCollectionLoader(cs, opts)
	if err != nil {
		return err
	}
	defer cl.close()

	assigned := make(map[reflect.Type]map[string]bool)
	for _, f := range fields {
		var err error
		switch f.Type {
		case reflect.TypeOf((*Program)(nil)):
			_, err = cl.loadProgram(f.tag)
		case reflect.TypeOf((*Map)(nil)):
			_, err = cl.loadMap(f.tag)
		case reflect.TypeOf((*Variable)(nil)):
			_, err = cl.loadVariable(f.tag)
		default:
			err = fmt.Errorf("unsupported type %s", f.Type)
		}
		if err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
		if assigned[f.Type] == nil {
			assigned[f.Type] = make(map[string]bool)
		}
		assigned[f.Type][f.tag] = true
	}
	if err := cl.populateDeferred(); err != nil {
		return err
	}

	mapsAssigned := assigned[reflect.TypeOf((*Map)(nil))]
	for _, name := range sortedKeys(cl.maps) {
		if cl.maps[name].Type().canStoreProgram() && !mapsAssigned[name] && len(cs.Maps[name].Contents) > 0 {
			return fmt.Errorf("map %q: a program array with contents must be assigned: its entries are removed when its last descriptor closes, and tail calls would miss", name)
		}
	}

	err = assignValues(to, func(field reflect.StructField, name string) (any, error) {
		switch field.Type {
		case reflect.TypeOf((*Program)(nil)):
			return cl.programs[name], nil
		case reflect.TypeOf((*Map)(nil)):
			return cl.maps[name], nil
		case reflect.TypeOf((*Variable)(nil)):
			return cl.vars[name], nil
		}
		return nil, fmt.Errorf("unsupported type %s", field.Type)
	})
	if err != nil {
		return err
	}

	// The caller owns what was assigned; close the rest.
	for name := range assigned[reflect.TypeOf((*Program)(nil))] {
		delete(cl.programs, name)
	}
	for name := range mapsAssigned {
		delete(cl.maps, name)
	}
	for name := range assigned[reflect.TypeOf((*Variable)(nil))] {
		delete(cl.vars, name)
	}
	return nil
}

// Assign moves maps, programs and variables of the collection into the
// struct that to points at, by `ebpf:"name"` tags on fields of type *Map,
// *Program and *Variable (see CollectionSpec.LoadAndAssign). Assigned
// objects leave the collection: the caller owns them, and Close no longer
// affects them.
//
// It assigns nothing, and the collection keeps everything, if a name is
// missing, a field has another type or an object would be assigned twice.
func (coll *Collection) Assign(to any) error {
	type ref struct {
		typ  reflect.Type
		name string
	}
	var taken []ref
	err := assignValues(to, func(field reflect.StructField, name string) (any, error) {
		var obj any
		switch field.Type {
		case reflect.TypeOf((*Program)(nil)):
			p := coll.Programs[name]
			if p == nil {
				return nil, fmt.Errorf("missing program %q", name)
			}
			obj = p
		case reflect.TypeOf((*Map)(nil)):
			m := coll.Maps[name]
			if m == nil {
				return nil, fmt.Errorf("missing map %q", name)
			}
			obj = m
		case reflect.TypeOf((*Variable)(nil)):
			v := coll.Variables[name]
			if v == nil {
				return nil, fmt.Errorf("missing variable %q", name)
			}
			obj = v
		default:
			return nil, fmt.Errorf("unsupported type %s", field.Type)
		}
		taken = append(taken, ref{field.Type, name})
		return obj, nil
	})
	if err != nil {
		return err
	}
	for _, r := range taken {
		switch r.typ {
		case reflect.TypeOf((*Program)(nil)):
			delete(coll.Programs, r.name)
		case reflect.TypeOf((*Map)(nil)):
			delete(coll.Maps, r.name)
		case reflect.TypeOf((*Variable)(nil)):
			delete(coll.Variables, r.name)
		}
	}
	return nil
}

// Close closes every map and program left in the collection. The kernel
// frees them unless something else holds them: a pin, a link, a program
// using a map, a Variable's memory mapping (Variables stay usable), or the
// registration of a struct_ops map (see NewCollectionWithOptions).
func (coll *Collection) Close() {
	if coll == nil {
		return
	}
	for _, p := range coll.Programs {
		p.Close()
	}
	for _, m := range coll.Maps {
		m.Close()
	}
}

// DetachMap removes the map called name from the collection and returns
// it, or nil if there is none. The caller owns it: Close no longer closes
// it.
func (coll *Collection) DetachMap(name string) *Map {
	m := coll.Maps[name]
	delete(coll.Maps, name)
	return m
}

// DetachProgram removes the program called name from the collection and
// returns it, or nil if there is none. The caller owns it: Close no longer
// closes it.
func (coll *Collection) DetachProgram(name string) *Program {
	p := coll.Programs[name]
	delete(coll.Programs, name)
	return p
}

// sortedKeys returns the keys of m in ascending order: the loader walks
// maps in this order so that errors are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
