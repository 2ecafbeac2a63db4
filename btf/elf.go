package btf

import (
	"debug/elf"
	"fmt"
)

// Section names of BTF in ELF objects.
const (
	btfSection    = ".BTF"
	btfExtSection = ".BTF.ext"
)

// elfDatasecs holds what an object's section headers and symbol table say
// about its data sections. Compilers emit DATASECs with size 0 and
// variables at offset 0 because the final layout is only known to the
// assembler; like libbpf, we fill both in from the ELF when a DATASEC is
// decoded.
type elfDatasecs struct {
	sizes   map[string]uint32
	symbols map[string]map[string]uint32 // section -> symbol -> value
}

func newELFDatasecs(f *elf.File) *elfDatasecs {
	ds := &elfDatasecs{sizes: make(map[string]uint32), symbols: make(map[string]map[string]uint32)}
	for _, sec := range f.Sections {
		if sec.Flags&elf.SHF_ALLOC != 0 && sec.Size <= 0xffffffff {
			ds.sizes[sec.Name] = uint32(sec.Size)
		}
	}
	syms, _ := f.Symbols()
	for _, sym := range syms {
		typ := elf.ST_TYPE(sym.Info)
		if typ == elf.STT_SECTION || typ == elf.STT_FILE || sym.Name == "" {
			continue
		}
		if int(sym.Section) <= 0 || int(sym.Section) >= len(f.Sections) || sym.Value > 0xffffffff {
			continue
		}
		sec := f.Sections[sym.Section].Name
		if ds.symbols[sec] == nil {
			ds.symbols[sec] = make(map[string]uint32)
		}
		ds.symbols[sec][sym.Name] = uint32(sym.Value)
	}
	return ds
}

// fixup fills in the size of ds and the offsets of its variables. Sections
// the ELF does not have (.ksyms, .kconfig) are left alone. rt is the raw
// DATASEC: fill may not have reached the variables' shells yet (a request
// lists a datasec before the variables it references), so their names are
// read from the blob.
func (eds *elfDatasecs) fixup(ds *Datasec, rs *rawSpec, rt *rawType) error {
	size, ok := eds.sizes[ds.Name]
	if !ok {
		return nil
	}
	if ds.Size == 0 {
		ds.Size = size
	}
	syms := eds.symbols[ds.Name]
	for i := range ds.Vars {
		vsi := &ds.Vars[i]
		if _, ok := vsi.Type.(*Var); !ok || vsi.Offset != 0 {
			continue
		}
		name, ok := rs.varName(TypeID(rs.order.u32(rt.data[i*btfVarSecinfoSize+btfVarSecinfoTypeOff:])))
		if !ok {
			continue
		}
		off, ok := syms[name]
		if !ok {
			continue
		}
		if uint64(off)+uint64(vsi.Size) > uint64(ds.Size) {
			return fmt.Errorf("datasec %s: variable %s at %d+%d beyond the section's %d bytes", ds.Name, name, off, vsi.Size, ds.Size)
		}
		vsi.Offset = off
	}
	return nil
}

// varName returns the name of the VAR id, without decoding it.
func (r *rawSpec) varName(id TypeID) (string, bool) {
	rs, off, err := r.locate(id)
	if err != nil || infoKind(rs.order.u32(rs.types[off+btfTypeInfoOff:])) != kindVar {
		return "", false
	}
	name, err := rs.strings.lookup(rs.order.u32(rs.types[off+btfTypeNameOffOff:]))
	return name, err == nil
}

// loadSpecFromELF reads .BTF (and, if wantExt, .BTF.ext) of an object.
func loadSpecFromELF(f *elf.File, base *rawSpec, wantExt bool) (*Spec, *ExtInfos, error) {
	sec := f.Section(btfSection)
	if sec == nil {
		return nil, nil, fmt.Errorf("no %s section: %w", btfSection, ErrNotFound)
	}
	if sec.Type == elf.SHT_NOBITS {
		return nil, nil, fmt.Errorf("section %s: no data", btfSection)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, nil, fmt.Errorf("section %s: %w", btfSection, err)
	}
	raw, err := newRawSpec(data, base)
	if err != nil {
		return nil, nil, fmt.Errorf("section %s: %w", btfSection, err)
	}
	if elfOrder, _ := orderOf(f.ByteOrder); elfOrder != raw.order {
		return nil, nil, fmt.Errorf("section %s: byte order differs from the ELF's (%s)", btfSection, f.ByteOrder)
	}
	if raw.unsizedDatasecs {
		// Only objects straight from the compiler need this; a vmlinux
		// file's BTF is complete, and its symbol table is large.
		raw.datasecs = newELFDatasecs(f)
	}
	spec := newSpec(raw)
	if !wantExt {
		return spec, nil, nil
	}

	extSec := f.Section(btfExtSection)
	if extSec == nil {
		return spec, nil, nil
	}
	extData, err := extSec.Data()
	if err != nil {
		return nil, nil, fmt.Errorf("section %s: %w", btfExtSection, err)
	}
	ext, err := loadExtInfos(extData, spec)
	if err != nil {
		return nil, nil, fmt.Errorf("section %s: %w", btfExtSection, err)
	}
	return spec, ext, nil
}
