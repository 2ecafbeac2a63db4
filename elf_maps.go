package ebpf

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/bpfkit/ebpf/btf"
)

// Maps are defined in two ways:
//
//   - legacy: a struct bpf_map_def (type, key size, value size, max
//     entries, flags; 20 bytes) per symbol in a section named "maps*",
//     possibly followed by more fields such as iproute2's struct
//     bpf_elf_map (id, pinning, inner_id, inner_idx);
//   - BTF: a zeroed variable per map in ".maps" whose BTF struct type
//     encodes the attributes in its members (libbpf's __uint, __type,
//     __array and __ulong macros).

// legacyMapDefSize is the size of struct bpf_map_def.
const legacyMapDefSize = 20

// iproute2's struct bpf_elf_map adds id and pinning (28 bytes), then
// inner_id and inner_idx (36 bytes). pinning is at offset 24.
const (
	iproute2MapDefSize      = 28
	iproute2InnerMapDefSize = 36
	iproute2PinGlobalNS     = 2
)

func (r *elfReader) loadLegacyMaps() error {
	for i := range r.sections {
		if r.kinds[i] != legacyMapSection {
			continue
		}
		sec := &r.sections[i]
		if err := r.loadLegacyMapSection(i, sec); err != nil {
			return fmt.Errorf("section %q: %w", sec.name, err)
		}
	}
	return nil
}

func (r *elfReader) loadLegacyMapSection(index int, sec *elfSection) error {
	syms := r.sectionSymbols(index)
	if len(syms) == 0 {
		return errors.New("no map symbols")
	}
	if sec.typ == elf.SHT_NOBITS {
		return errors.New("map definitions have no data")
	}
	data, err := r.sectionData(sec)
	if err != nil {
		return err
	}
	ds, err := r.datasec(sec.name, index)
	if err != nil {
		return err
	}
	bo := r.order
	for _, si := range syms {
		sym := &r.symbols[si]
		def, err := symbolBytes(data, sym)
		if err != nil {
			return fmt.Errorf("map %q: %w", sym.name, err)
		}
		if r.maps[sym.name] != nil {
			return fmt.Errorf("map %q: defined twice", sym.name)
		}
		if sym.binding() == elf.STB_LOCAL {
			return fmt.Errorf("map %q is static: maps must be global", sym.name)
		}
		if len(def) < legacyMapDefSize {
			return fmt.Errorf("map %q: definition of %d bytes is shorter than struct bpf_map_def (%d)", sym.name, len(def), legacyMapDefSize)
		}
		spec := &MapSpec{
			Name:       sanitizeMapName(sym.name),
			Type:       MapType(bo.Uint32(def[0:])),
			KeySize:    bo.Uint32(def[4:]),
			ValueSize:  bo.Uint32(def[8:]),
			MaxEntries: bo.Uint32(def[12:]),
			Flags:      bo.Uint32(def[16:]),
		}
		if extra := def[legacyMapDefSize:]; len(extra) > 0 {
			spec.Extra = bytes.NewReader(slices.Clone(extra))
		}
		if len(def) == iproute2MapDefSize || len(def) == iproute2InnerMapDefSize {
			if bo.Uint32(def[24:]) == iproute2PinGlobalNS {
				spec.Pinning = PinByName
			}
			// iproute2's id and pinning fields are understood: read past
			// them, so only inner_id and inner_idx (map-in-map, which we
			// don't interpret) are left for NewMap to insist are zero.
			// Seeking back to 0 gives the whole tail to callers who want it.
			if _, err := spec.Extra.Seek(8, io.SeekStart); err != nil {
				return fmt.Errorf("map %q: %w", sym.name, err)
			}
		}
		// Legacy maps carry no key/value BTF, but their variable may carry
		// decl tags.
		if v := datasecVar(ds, sym.name); v != nil {
			spec.Tags = slices.Clone(v.Tags)
		}
		r.maps[sym.name] = spec
	}
	return nil
}

// symbolBytes returns the bytes of sym within its section's data.
func symbolBytes(data []byte, sym *elfSymbol) ([]byte, error) {
	if sym.value > uint64(len(data)) || sym.size > uint64(len(data))-sym.value {
		return nil, fmt.Errorf("%d bytes at offset %d are beyond the end of the section (%d bytes)", sym.size, sym.value, len(data))
	}
	return data[sym.value : sym.value+sym.size : sym.value+sym.size], nil
}

func (r *elfReader) loadBTFMaps() error {
	for i := range r.sections {
		if r.kinds[i] != btfMapSection {
			continue
		}
		sec := &r.sections[i]
		if err := r.loadBTFMapSection(i, sec); err != nil {
			return fmt.Errorf("section %q: %w", sec.name, err)
		}
	}
	return nil
}

func (r *elfReader) loadBTFMapSection(index int, sec *elfSection) error {
	if r.btf == nil {
		return errors.New("BTF map definitions need BTF, but the object has none")
	}
	ds, err := r.datasec(sec.name, index)
	if err != nil {
		return err
	}
	syms := r.sectionSymbols(index)
	if ds == nil {
		if len(syms) == 0 {
			return nil
		}
		return errors.New("no BTF for the map definitions")
	}
	if len(ds.Vars) != len(syms) {
		return fmt.Errorf("%d symbols but %d BTF variables", len(syms), len(ds.Vars))
	}
	data, err := r.sectionData(sec)
	if err != nil {
		return err
	}
	for _, vsi := range ds.Vars {
		v, ok := vsi.Type.(*btf.Var)
		if !ok {
			return fmt.Errorf("BTF datasec holds %s, not a variable", vsi.Type)
		}
		name := v.Name
		sym := r.findSymbol(syms, name)
		if sym == nil {
			return fmt.Errorf("map %q: no symbol", name)
		}
		// A static map has no symbol that programs can refer to: they
		// use the section's. libbpf refuses them too.
		if sym.binding() == elf.STB_LOCAL {
			return fmt.Errorf("map %q is static: maps must be global", name)
		}
		if sec.typ != elf.SHT_NOBITS {
			def, err := symbolBytes(data, sym)
			if err != nil {
				return fmt.Errorf("map %q: %w", name, err)
			}
			// Attributes live in BTF; the definition itself must be
			// zero. .values slots are filled by relocations.
			if !allZero(def) {
				return fmt.Errorf("map %q: definition is initialized: %w", name, ErrNotSupported)
			}
		}
		if r.maps[name] != nil {
			return fmt.Errorf("map %q: defined twice", name)
		}
		def, ok := btf.UnderlyingType(v.Type).(*btf.Struct)
		if !ok {
			return fmt.Errorf("map %q: definition is %s, not a struct", name, v.Type)
		}
		spec, err := r.mapSpecFromBTF(index, sym, v, def, name, false)
		if err != nil {
			return fmt.Errorf("map %q: %w", name, err)
		}
		r.maps[name] = spec
	}
	return nil
}

// datasecVar returns the variable called name in ds, or nil.
func datasecVar(ds *btf.Datasec, name string) *btf.Var {
	if ds == nil {
		return nil
	}
	for _, vsi := range ds.Vars {
		if v, ok := vsi.Type.(*btf.Var); ok && v.Name == name {
			return v
		}
	}
	return nil
}

// findSymbol returns the symbol called name among syms.
func (r *elfReader) findSymbol(syms []uint32, name string) *elfSymbol {
	for _, si := range syms {
		if r.symbols[si].name == name {
			return &r.symbols[si]
		}
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// mapSpecFromBTF builds a MapSpec from the members of a BTF map definition.
// inner is set for the inline definition of a map-in-map's inner map.
func (r *elfReader) mapSpecFromBTF(index int, sym *elfSymbol, v *btf.Var, def *btf.Struct, name string, inner bool) (*MapSpec, error) {
	spec := &MapSpec{Name: sanitizeMapName(name), Tags: slices.Clone(v.Tags)}
	var (
		haveKeySize, haveValueSize bool
		values                     *btf.Member
	)
	for i := range def.Members {
		m := &def.Members[i]
		if err := func() error {
			switch m.Name {
			case "type":
				n, err := btfMapUint32(m.Type)
				spec.Type = MapType(n)
				return err
			case "map_flags":
				n, err := btfMapUint32(m.Type)
				spec.Flags = n
				return err
			case "max_entries":
				n, err := btfMapUint32(m.Type)
				spec.MaxEntries = n
				return err
			case "numa_node":
				n, err := btfMapUint32(m.Type)
				spec.NumaNode = n
				return err
			case "map_extra":
				n, err := btfMapUint(m.Type)
				spec.MapExtra = n
				return err
			case "key_size", "value_size":
				n, err := btfMapUint32(m.Type)
				if err != nil {
					return err
				}
				if m.Name == "key_size" {
					if spec.Key != nil || haveKeySize {
						return errors.New("key size given twice")
					}
					spec.KeySize, haveKeySize = n, true
				} else {
					if spec.Value != nil || haveValueSize {
						return errors.New("value size given twice")
					}
					spec.ValueSize, haveValueSize = n, true
				}
				return nil
			case "key", "value":
				ptr, ok := btf.UnderlyingType(m.Type).(*btf.Pointer)
				if !ok {
					return fmt.Errorf("expected a pointer (__type), got %s", m.Type)
				}
				size, err := btf.Sizeof(ptr.Target)
				if err != nil {
					return fmt.Errorf("size of %s: %w", ptr.Target, err)
				}
				if uint64(size) > 1<<32-1 {
					return fmt.Errorf("%s is %d bytes", ptr.Target, size)
				}
				if m.Name == "key" {
					if spec.Key != nil || haveKeySize {
						return errors.New("key size given twice")
					}
					spec.Key, spec.KeySize = ptr.Target, uint32(size)
				} else {
					if spec.Value != nil || haveValueSize {
						return errors.New("value size given twice")
					}
					spec.Value, spec.ValueSize = ptr.Target, uint32(size)
				}
				return nil
			case "pinning":
				if inner {
					return errors.New("inner maps can't be pinned")
				}
				n, err := btfMapUint32(m.Type)
				if err != nil {
					return err
				}
				switch PinType(n) {
				case PinNone, PinByName:
				default:
					return fmt.Errorf("unknown pin type %d", n)
				}
				spec.Pinning = PinType(n)
				return nil
			case "values":
				if i != len(def.Members)-1 {
					return errors.New("must be the last member")
				}
				values = m
				return nil
			}
			return errors.New("unknown map attribute")
		}(); err != nil {
			return nil, fmt.Errorf("member %q: %w", m.Name, err)
		}
	}

	if values != nil {
		if err := r.btfMapValues(index, sym, v, spec, values, inner); err != nil {
			return nil, fmt.Errorf("member %q: %w", values.Name, err)
		}
	}

	// Ring buffers, arenas and perf event arrays take no value size, but a
	// value type is still useful to describe what they carry.
	if spec.Value != nil && !mapTypeTakesValueSize(spec.Type) {
		spec.ValueSize = 0
	}
	return spec, nil
}

// mapTypeTakesValueSize reports whether a map type is created with the
// value size of its value type.
func mapTypeTakesValueSize(t MapType) bool {
	switch t {
	case RingBuf, Arena, PerfEventArray:
		return false
	}
	return true
}

// btfMapUint decodes an integer attribute: __uint(name, N) declares a
// pointer to an array of N elements, __ulong(name, N) an enum whose one
// value is N (for 64-bit values).
func btfMapUint(t btf.Type) (uint64, error) {
	switch t := btf.UnderlyingType(t).(type) {
	case *btf.Pointer:
		arr, ok := btf.UnderlyingType(t.Target).(*btf.Array)
		if !ok {
			return 0, fmt.Errorf("expected a pointer to an array (__uint), got a pointer to %s", t.Target)
		}
		return uint64(arr.Nelems), nil
	case *btf.Enum:
		if len(t.Values) == 0 {
			return 0, errors.New("expected an enum with a value (__ulong), got one without values")
		}
		return t.Values[0].Value, nil
	default:
		return 0, fmt.Errorf("expected a pointer to an array (__uint), got %s", t)
	}
}

func btfMapUint32(t btf.Type) (uint32, error) {
	n, err := btfMapUint(t)
	if err != nil {
		return 0, err
	}
	if n > 1<<32-1 {
		return 0, fmt.Errorf("value %d does not fit 32 bits", n)
	}
	return uint32(n), nil
}

// btfMapValues handles the .values member of a program array or
// map-in-map: __array(values, T) declares T *values[]. For map-in-maps T
// is the inner map's definition. The initial entries are relocations of
// the array's slots against programs or maps; they become Contents of
// index and program or map name.
func (r *elfReader) btfMapValues(index int, sym *elfSymbol, v *btf.Var, spec *MapSpec, m *btf.Member, inner bool) error {
	arr, ok := btf.UnderlyingType(m.Type).(*btf.Array)
	if !ok {
		return fmt.Errorf("expected an array of pointers (__array), got %s", m.Type)
	}
	ptr, ok := btf.UnderlyingType(arr.Type).(*btf.Pointer)
	if !ok {
		return fmt.Errorf("expected an array of pointers (__array), got an array of %s", arr.Type)
	}
	if spec.ValueSize != 0 && spec.ValueSize != 4 {
		return fmt.Errorf("value size %d given, but values need 4 bytes", spec.ValueSize)
	}
	spec.ValueSize = 4

	wantProgs := false
	switch target := btf.UnderlyingType(ptr.Target).(type) {
	case *btf.Struct:
		if spec.Type != ArrayOfMaps && spec.Type != HashOfMaps {
			return fmt.Errorf("values are maps, but the map is a %s, not an array or hash of maps", spec.Type)
		}
		if inner {
			return errors.New("inner maps can't hold maps")
		}
		innerSpec, err := r.mapSpecFromBTF(index, sym, v, target, spec.Name+"_inner", true)
		if err != nil {
			return fmt.Errorf("inner map: %w", err)
		}
		spec.InnerMap = innerSpec
	case *btf.FuncProto:
		if spec.Type != ProgramArray {
			return fmt.Errorf("values are programs, but the map is a %s, not a program array", spec.Type)
		}
		wantProgs = true
	default:
		return fmt.Errorf("values of type %s are neither maps nor programs", ptr.Target)
	}

	// Slots are 8-byte pointers from the member's offset to the end of
	// the definition; only initialized slots have a relocation.
	const slot = 8
	start := sym.value + uint64(m.Offset.Bytes())
	end := sym.value + sym.size
	if m.Offset.Bytes() > uint32(min(sym.size, 1<<32-1)) {
		return fmt.Errorf("offset %d is beyond the %d-byte definition", m.Offset.Bytes(), sym.size)
	}
	relocs := r.relocs[index]
	first, _ := slices.BinarySearchFunc(relocs, start, func(rel elfReloc, off uint64) int {
		switch {
		case rel.offset < off:
			return -1
		case rel.offset > off:
			return 1
		}
		return 0
	})
	for _, rel := range relocs[first:] {
		if rel.offset >= end {
			break
		}
		if (rel.offset-start)%slot != 0 {
			return fmt.Errorf("relocation at offset %d is not at a slot", rel.offset-sym.value)
		}
		i := (rel.offset - start) / slot
		target := &r.symbols[rel.symbol]
		tname := r.symbolName(target)
		switch {
		case wantProgs && (target.kind() == elf.STT_FUNC || target.kind() == elf.STT_NOTYPE) && r.kindOf(target.section) == programSection:
		case !wantProgs && (target.kind() == elf.STT_OBJECT || target.kind() == elf.STT_NOTYPE) && r.kindOf(target.section) == btfMapSection:
		default:
			what := "map"
			if wantProgs {
				what = "program"
			}
			return fmt.Errorf("slot %d: %q is not a %s", i, tname, what)
		}
		spec.Contents = append(spec.Contents, MapKV{Key: uint32(i), Value: tname})
	}
	return nil
}

// kindOf returns the kind of the section at index; indices without a
// section (undefined, absolute, ...) are otherSection.
func (r *elfReader) kindOf(index elf.SectionIndex) sectionKind {
	if int(index) >= len(r.kinds) {
		return otherSection
	}
	return r.kinds[index]
}

// sanitizeMapName drops the characters the kernel refuses in object names,
// keeping letters, digits, '_' and '.'.
func sanitizeMapName(name string) string {
	clean := true
	for i := 0; i < len(name); i++ {
		if !objNameChar(name[i]) {
			clean = false
			break
		}
	}
	if clean {
		return name
	}
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		if objNameChar(name[i]) {
			b = append(b, name[i])
		}
	}
	return string(b)
}

func objNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}
