package ebpf

import (
	"errors"
	"fmt"
	"slices"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// collectionLoader turns the specs of one CollectionSpec into kernel
// objects on demand: loading a program creates the maps it references
// first, loading a variable creates its data section's map. Maps that hold
// other objects (program arrays, maps of maps, struct_ops maps) are
// created when asked for but filled only by populateDeferred, once the
// programs they may hold can exist; that is also when the objects their
// contents name are loaded. NewCollection asks for everything,
// LoadAndAssign for what a struct names.
//
// The loader owns everything it has made until its caller takes the
// objects out of maps, programs and vars; close closes the rest.
type collectionLoader struct {
	spec  *CollectionSpec
	opts  *CollectionOptions
	cache *btf.Cache
	// syms is what /proc/kallsyms said, shared by all programs: the
	// first program needing it reads kallsyms for all of them.
	syms *kallsymsCache

	maps     map[string]*Map
	programs map[string]*Program
	vars     map[string]*Variable

	// deferred are the maps created but not yet filled, with the spec
	// (contents still naming objects) to fill them from.
	deferred map[string]*MapSpec

	// varsBySection groups the spec's variables by data section, built
	// when the first data section is created.
	varsBySection map[string][]*VariableSpec

	// kconfig is the .kconfig map, created for the first program that
	// reads an extern of it. The collection doesn't hand it out: the
	// programs keep it alive.
	kconfig *kconfigMap

	// registered are the struct_ops maps whose value was written, which
	// registered them with their kernel subsystem (all but BPF_F_LINK
	// maps). The registration holds the map: close unregisters those it
	// still owns.
	registered []string
}

func newCollectionLoader(spec *CollectionSpec, opts *CollectionOptions) (*collectionLoader, error) {
	for _, name := range sortedKeys(opts.MapReplacements) {
		if spec.Maps[name] == nil {
			return nil, fmt.Errorf("replacement map %q: the spec has no map of that name", name)
		}
		if opts.MapReplacements[name] == nil {
			return nil, fmt.Errorf("replacement map %q is nil", name)
		}
	}
	cache := opts.Cache
	if cache == nil {
		cache = btf.NewCache()
	}
	return &collectionLoader{
		spec:     spec,
		opts:     opts,
		cache:    cache,
		syms:     kallsymsCacheFor(spec.Programs),
		maps:     make(map[string]*Map),
		programs: make(map[string]*Program),
		vars:     make(map[string]*Variable),
		deferred: make(map[string]*MapSpec),
	}, nil
}

// close closes every object the loader still owns.
func (cl *collectionLoader) close() {
	for _, name := range cl.registered {
		if m := cl.maps[name]; m != nil {
			// Nothing more can be done if this fails; the map then stays
			// registered until the kernel drops it.
			_ = m.Delete(uint32(0))
		}
	}
	for _, p := range cl.programs {
		p.Close()
	}
	for _, m := range cl.maps {
		m.Close()
	}
	if cl.kconfig != nil {
		cl.kconfig.m.Close()
	}
}

// loadMap returns the map called name, creating it if needed. Maps that
// hold no other objects are filled (and frozen, and pinned) right away:
// .rodata must be frozen before the verifier sees a program reading it.
func (cl *collectionLoader) loadMap(name string) (*Map, error) {
	if m := cl.maps[name]; m != nil {
		return m, nil
	}
	spec := cl.spec.Maps[name]
	if spec == nil {
		return nil, fmt.Errorf("missing map %q", name)
	}
	spec, err := cl.dataSectionSpec(name, spec)
	if err != nil {
		return nil, fmt.Errorf("map %q: %w", name, err)
	}

	if repl := cl.opts.MapReplacements[name]; repl != nil {
		if err := spec.Compatible(repl); err != nil {
			return nil, fmt.Errorf("map %q: replacement: %w", name, err)
		}
		m, err := repl.Clone()
		if err != nil {
			return nil, fmt.Errorf("map %q: replacement: %w", name, err)
		}
		cl.maps[name] = m
		return m, nil
	}

	m, reused, err := newMapWithCache(spec, cl.opts.Maps, cl.cache)
	if err != nil {
		return nil, fmt.Errorf("map %q: %w", name, err)
	}
	switch {
	case reused:
		// A pinned map is used as it is.
	case holdsObjects(spec.Type):
		cl.deferred[name] = spec
	default:
		if err := cl.finish(m, spec); err != nil {
			m.Close()
			return nil, fmt.Errorf("map %q: %w", name, err)
		}
	}
	cl.maps[name] = m
	return m, nil
}

// holdsObjects reports whether maps of the type are filled with other
// objects, named in the contents of their spec, after loading programs.
func holdsObjects(t MapType) bool {
	return t.canStoreProgram() || t.canStoreMap() || t == StructOpsMap
}

// finish fills a new map and pins it if its spec asks for that.
func (cl *collectionLoader) finish(m *Map, spec *MapSpec) error {
	if err := m.finalize(spec); err != nil {
		return err
	}
	if spec.Pinning == PinByName {
		return m.pinByName(spec.Name, cl.opts.Maps.PinPath)
	}
	return nil
}

// dataSectionSpec returns the spec to create the map called name from. For
// a data section (.data, .rodata, .bss and their ".name" variants) that is
// a copy whose contents carry the current values of the section's
// VariableSpecs, and which is mmapable where the kernel allows it (5.5) so
// that Variables can work in place. Other specs are returned as they are.
func (cl *collectionLoader) dataSectionSpec(name string, spec *MapSpec) (*MapSpec, error) {
	if !isDataSection(name) || spec.Type != Array || spec.MaxEntries != 1 || len(spec.Contents) != 1 {
		return spec, nil
	}
	base, ok := spec.Contents[0].Value.([]byte)
	if !ok {
		return nil, fmt.Errorf("data section contents are %T, not []byte", spec.Contents[0].Value)
	}
	if uint64(len(base)) != uint64(spec.ValueSize) {
		return nil, fmt.Errorf("data section contents are %d bytes, the value size %d", len(base), spec.ValueSize)
	}
	if cl.varsBySection == nil {
		cl.varsBySection = make(map[string][]*VariableSpec)
		for _, vname := range sortedKeys(cl.spec.Variables) {
			vs := cl.spec.Variables[vname]
			if vs != nil {
				cl.varsBySection[vs.SectionName] = append(cl.varsBySection[vs.SectionName], vs)
			}
		}
	}

	data := slices.Clone(base)
	for _, vs := range cl.varsBySection[name] {
		if vs.Value == nil {
			continue
		}
		if uint64(vs.Offset)+uint64(len(vs.Value)) > uint64(len(data)) {
			return nil, fmt.Errorf("variable %q: %d bytes at offset %d are beyond the end of the section (%d bytes)", vs.Name, len(vs.Value), vs.Offset, len(data))
		}
		if vs.Type != nil {
			if size, err := btf.Sizeof(vs.Type.Type); err == nil && size != len(vs.Value) {
				return nil, fmt.Errorf("variable %q: value is %d bytes, its type %d", vs.Name, len(vs.Value), size)
			}
		}
		copy(data[vs.Offset:], vs.Value)
	}

	cpy := *spec
	cpy.Contents = []MapKV{{Key: spec.Contents[0].Key, Value: data}}
	if haveMmapableMaps() == nil {
		cpy.Flags |= sys.BPF_F_MMAPABLE
	}
	return &cpy, nil
}

// loadProgram returns the program called name, loading it and the maps it
// references if needed.
func (cl *collectionLoader) loadProgram(name string) (*Program, error) {
	if p := cl.programs[name]; p != nil {
		return p, nil
	}
	spec := cl.spec.Programs[name]
	if spec == nil {
		return nil, fmt.Errorf("missing program %q", name)
	}
	if spec.Type == UnspecifiedProgram {
		// Fail before creating the maps it would need.
		return nil, fmt.Errorf("program %q: program type is unspecified", name)
	}

	// Associating maps changes instruction metadata, which the copy
	// doesn't share with the spec (copy on write).
	cpy := *spec
	cpy.Instructions = slices.Clone(spec.Instructions)
	for i := range cpy.Instructions {
		ins := &cpy.Instructions[i]
		if meta, ok := ins.Metadata.Get(kconfigMetaKey{}).(*kconfigMeta); ok {
			if err := cl.linkKconfig(ins, meta); err != nil {
				return nil, fmt.Errorf("program %q: %w", name, err)
			}
			continue
		}
		if !ins.IsLoadFromMap() {
			continue
		}
		ref := ins.Reference()
		if ref == "" || int32(ins.Constant) > 0 {
			// Either no reference, or the caller put a map fd there
			// itself.
			continue
		}
		m, err := cl.loadMap(ref)
		if err != nil {
			return nil, fmt.Errorf("program %q: %w", name, err)
		}
		if err := ins.AssociateMap(m); err != nil {
			return nil, fmt.Errorf("program %q: map %q: %w", name, ref, err)
		}
	}

	prog, err := newProgramWithOptions(&cpy, cl.opts.Programs, cl.cache, cl.syms)
	if err != nil {
		return nil, err
	}
	cl.programs[name] = prog
	return prog, nil
}

// loadVariable returns the variable called name, creating its data
// section's map if needed. Where the map can't be mapped into memory
// (kernels before 5.5, or a replacement map without BPF_F_MMAPABLE) the
// Variable exists but can't be read or written.
func (cl *collectionLoader) loadVariable(name string) (*Variable, error) {
	if v := cl.vars[name]; v != nil {
		return v, nil
	}
	vs := cl.spec.Variables[name]
	if vs == nil {
		return nil, fmt.Errorf("missing variable %q", name)
	}
	m, err := cl.loadMap(vs.SectionName)
	if err != nil {
		return nil, fmt.Errorf("variable %q: %w", name, err)
	}
	mm, err := m.Memory()
	if errors.Is(err, ErrNotSupported) {
		mm = nil
	} else if err != nil {
		return nil, fmt.Errorf("variable %q: %w", name, err)
	}
	v, err := newVariable(vs.Name, vs.Offset, vs.Size(), vs.Type, mm)
	if err != nil {
		return nil, fmt.Errorf("variable %q: %w", name, err)
	}
	cl.vars[name] = v
	return v, nil
}

// populateDeferred fills the maps that hold other objects, loading the
// programs and maps their contents name. Loading those may create more
// such maps; it goes on until none is left, in the order of their names.
func (cl *collectionLoader) populateDeferred() error {
	for len(cl.deferred) > 0 {
		name := ""
		for n := range cl.deferred {
			if name == "" || n < name {
				name = n
			}
		}
		spec := cl.deferred[name]
		delete(cl.deferred, name)
		m := cl.maps[name]

		var err error
		if spec.Type == StructOpsMap {
			err = cl.populateStructOps(name, m, spec)
		} else {
			spec, err = cl.resolveContents(name, spec)
			if err == nil {
				err = m.finalize(spec)
			}
		}
		if err == nil && spec.Pinning == PinByName {
			err = m.pinByName(spec.Name, cl.opts.Maps.PinPath)
		}
		if err != nil {
			return fmt.Errorf("map %q: %w", name, err)
		}
	}
	return nil
}

// resolveContents returns a copy of spec whose contents hold the programs
// and maps that the original's name.
func (cl *collectionLoader) resolveContents(name string, spec *MapSpec) (*MapSpec, error) {
	var contents []MapKV
	for i, kv := range spec.Contents {
		ref, ok := kv.Value.(string)
		if !ok {
			continue
		}
		if contents == nil {
			contents = slices.Clone(spec.Contents)
		}
		var (
			obj any
			err error
		)
		switch {
		case spec.Type.canStoreProgram():
			obj, err = cl.loadProgram(ref)
		case spec.Type.canStoreMap():
			if ref == name {
				return nil, fmt.Errorf("contents: entry %d (key %v): the map can't hold itself", i, kv.Key)
			}
			obj, err = cl.loadMap(ref)
		default:
			return nil, fmt.Errorf("contents: entry %d (key %v): a %s holds no objects, but the value is the name %q", i, kv.Key, spec.Type, ref)
		}
		if err != nil {
			return nil, fmt.Errorf("contents: entry %d (key %v): %w", i, kv.Key, err)
		}
		contents[i].Value = obj
	}
	if contents == nil {
		return spec, nil
	}
	cpy := *spec
	cpy.Contents = contents
	return &cpy, nil
}
