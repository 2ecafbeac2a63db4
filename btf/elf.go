package btf

import (
	"cmp"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Section names of BTF in ELF objects.
const (
	btfSection    = ".BTF"
	btfExtSection = ".BTF.ext"
)

// SectionLayout describes the ELF object that a .BTF section comes from, as
// far as loading its BTF needs: compilers emit DATASECs with size 0 and
// every variable at offset 0, because only the assembler knows the layout,
// and the loader fills both in from the section headers and the symbol
// table, as libbpf does. An ELF reader that has parsed the object already
// implements it over its own tables (see LoadSpecAndExtInfosFromSections).
// An addition to cilium/ebpf's API.
type SectionLayout interface {
	// ByteOrder is the object's byte order; its BTF must use the same.
	ByteOrder() binary.ByteOrder
	// SectionSize returns the size of the section called name, if the
	// object has one that occupies memory at run time (SHF_ALLOC).
	SectionSize(name string) (size uint64, ok bool)
	// SymbolOffset returns the value of the symbol called symbol that is
	// defined in the section called section, if there is one.
	SymbolOffset(section, symbol string) (offset uint64, ok bool)
}

// LoadSpecAndExtInfosFromSections reads BTF from the contents of an ELF
// object's .BTF and .BTF.ext sections (extData may be nil), for callers
// that have parsed the object already; LoadSpecAndExtInfosFromReader parses
// it again. layout supplies the sizes and symbol offsets that the
// compiler left out of the DATASECs; with a nil layout they stay as
// compiled.
//
// The Spec keeps btfData (type names point into it): it must not change
// afterwards. extData is not kept. The cost is one pass over the types to
// index them, one lookup in layout per variable of each DATASEC, and the
// decoding of the functions and types that .BTF.ext refers to. An addition
// to cilium/ebpf's API.
func LoadSpecAndExtInfosFromSections(btfData, extData []byte, layout SectionLayout) (*Spec, *ExtInfos, error) {
	raw, err := newRawSpec(btfData, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("section %s: %w", btfSection, err)
	}
	if layout != nil {
		if elfOrder, _ := orderOf(layout.ByteOrder()); elfOrder != raw.order {
			return nil, nil, fmt.Errorf("section %s: byte order differs from the ELF's (%s)", btfSection, layout.ByteOrder())
		}
		raw.placeDatasecs(layout)
	}
	spec := newSpec(raw)
	if extData == nil {
		return spec, nil, nil
	}
	ext, err := loadExtInfos(extData, spec)
	if err != nil {
		return nil, nil, fmt.Errorf("section %s: %w", btfExtSection, err)
	}
	return spec, ext, nil
}

// datasecPlacement is what the ELF says about one DATASEC: the size of its
// section and, per variable, the offset of the variable's symbol (-1 if
// the ELF does not have it). It is computed when the blob is loaded, so
// that neither the ELF nor the SectionLayout outlive the load, and applied
// when the DATASEC is decoded.
type datasecPlacement struct {
	id      TypeID
	size    uint32
	offsets []int64
}

// placeDatasecs computes the placement of every DATASEC of r whose section
// layout knows. Names that do not resolve are skipped here: decoding the
// type reports them.
func (r *rawSpec) placeDatasecs(layout SectionLayout) {
	if !r.unsizedDatasecs {
		// Not straight from the compiler: the DATASECs are complete.
		return
	}
	// One block for the offsets of all variables. The walk stops after
	// the last DATASEC, which compilers emit last.
	counts := r.kindCounts()
	hint := func(n int32) int {
		if n == math.MaxInt32 {
			return 0 // not counted: a large blob
		}
		return int(n)
	}
	offsets := make([]int64, 0, hint(counts.secinfos))
	r.placements = make([]datasecPlacement, 0, hint(counts.shells[tagDatasec]))
	left := counts.shells[tagDatasec]
	var off uint32
	for i := uint32(0); i < r.count && left > 0; i++ {
		id := r.firstID + TypeID(i)
		info := r.order.u32(r.types[off+btfTypeInfoOff:])
		at := off
		off += r.lens[infoKind(info)].size(info & infoVlenMask)
		if infoKind(info) != kindDatasec {
			continue
		}
		left--
		rt := r.at(at)
		name, err := r.strings.lookup(rt.nameOff)
		if err != nil {
			continue
		}
		size, ok := layout.SectionSize(name)
		if !ok || size > math.MaxUint32 {
			continue
		}
		start := len(offsets)
		for i := range rt.vlen() {
			value := int64(-1)
			varID := TypeID(r.order.u32(rt.data[i*btfVarSecinfoSize+btfVarSecinfoTypeOff:]))
			if v, ok := r.varName(varID); ok {
				if sym, ok := layout.SymbolOffset(name, v); ok && sym <= math.MaxUint32 {
					value = int64(sym)
				}
			}
			offsets = append(offsets, value)
		}
		r.placements = append(r.placements, datasecPlacement{id, uint32(size), offsets[start:len(offsets):len(offsets)]})
	}
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

// placeDatasec fills in the size of ds, the DATASEC id of r whose raw
// type is rt, and the offsets of its variables, if placeDatasecs found
// them in the ELF. Sections the ELF does not have (.ksyms, .kconfig) are
// left alone.
func (r *rawSpec) placeDatasec(id TypeID, ds *Datasec, rt *rawType) error {
	i, found := slices.BinarySearchFunc(r.placements, id, func(p datasecPlacement, id TypeID) int { return cmp.Compare(p.id, id) })
	if !found {
		return nil
	}
	p := &r.placements[i]
	if ds.Size == 0 {
		ds.Size = p.size
	}
	for i := range ds.Vars {
		vsi := &ds.Vars[i]
		if _, ok := vsi.Type.(*Var); !ok || vsi.Offset != 0 || i >= len(p.offsets) || p.offsets[i] < 0 {
			continue
		}
		off := uint32(p.offsets[i])
		if uint64(off)+uint64(vsi.Size) > uint64(ds.Size) {
			// The Var may not be filled in yet: its name comes from
			// the blob.
			name, _ := r.varName(TypeID(r.order.u32(rt.data[i*btfVarSecinfoSize+btfVarSecinfoTypeOff:])))
			return fmt.Errorf("datasec %s: variable %s at %d+%d beyond the section's %d bytes", ds.Name, name, off, vsi.Size, ds.Size)
		}
		vsi.Offset = off
	}
	return nil
}

// debugELFLayout is the SectionLayout of an object read with debug/elf,
// for LoadSpec and the other readers of whole files.
type debugELFLayout struct {
	order   binary.ByteOrder
	sizes   map[string]uint64
	symbols map[string]map[string]uint64 // section -> symbol -> value
}

func newDebugELFLayout(f *elf.File) *debugELFLayout {
	l := &debugELFLayout{order: f.ByteOrder, sizes: make(map[string]uint64), symbols: make(map[string]map[string]uint64)}
	for _, sec := range f.Sections {
		if sec.Flags&elf.SHF_ALLOC != 0 {
			l.sizes[sec.Name] = sec.Size
		}
	}
	syms, _ := f.Symbols()
	for _, sym := range syms {
		typ := elf.ST_TYPE(sym.Info)
		if typ == elf.STT_SECTION || typ == elf.STT_FILE || sym.Name == "" {
			continue
		}
		if int(sym.Section) <= 0 || int(sym.Section) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[sym.Section].Name
		if l.symbols[sec] == nil {
			l.symbols[sec] = make(map[string]uint64)
		}
		l.symbols[sec][sym.Name] = sym.Value
	}
	return l
}

func (l *debugELFLayout) ByteOrder() binary.ByteOrder { return l.order }

func (l *debugELFLayout) SectionSize(name string) (uint64, bool) {
	size, ok := l.sizes[name]
	return size, ok
}

func (l *debugELFLayout) SymbolOffset(section, symbol string) (uint64, bool) {
	v, ok := l.symbols[section][symbol]
	return v, ok
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
		raw.placeDatasecs(newDebugELFLayout(f))
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
