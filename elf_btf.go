package ebpf

import (
	"cmp"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
)

// loadBTF reads the object's .BTF and .BTF.ext sections. Objects without
// BTF are fine: they get no types, and maps and programs that need BTF fail
// where they need it.
//
// btf gets the sections' bytes and, through btfLayout, the section sizes
// and symbol offsets the compiler left out of the DATASECs, so the object
// is parsed once. btf decodes lazily: this indexes the types and decodes
// the functions of .BTF.ext; the phases that follow decode only what maps,
// variables and programs refer to.
func (r *elfReader) loadBTF() error {
	var btfSec, extSec *elfSection
	for i := range r.sections {
		switch r.sections[i].name {
		case ".BTF":
			btfSec = &r.sections[i]
		case ".BTF.ext":
			extSec = &r.sections[i]
		}
	}
	if btfSec == nil {
		return nil
	}
	data, err := r.btfSectionData(btfSec)
	if err != nil {
		return err
	}
	var ext []byte
	if extSec != nil {
		if ext, err = r.btfSectionData(extSec); err != nil {
			return err
		}
	}
	spec, infos, err := btf.LoadSpecAndExtInfosFromSections(data, ext, &btfLayout{r: r, last: -1})
	if err != nil {
		return fmt.Errorf("load BTF: %w", err)
	}
	r.btf, r.ext = spec, infos
	return nil
}

// btfSectionData returns the bytes of .BTF or .BTF.ext, which must have
// some.
func (r *elfReader) btfSectionData(sec *elfSection) ([]byte, error) {
	if sec.typ == elf.SHT_NOBITS {
		return nil, fmt.Errorf("load BTF: section %q: no data", sec.name)
	}
	data, err := r.sectionData(sec)
	if err != nil {
		return nil, fmt.Errorf("load BTF: section %q: %w", sec.name, err)
	}
	return data, nil
}

// btfLayout is the btf.SectionLayout of the object being read. btf asks it
// while loading, for one DATASEC's variables after another, never later.
type btfLayout struct {
	r *elfReader
	// last is the index of the section found last, or -1.
	last int
	// sections holds the indices of the allocated sections, sorted by
	// name, then index; built on first use.
	sections []uint32
	// byName holds the indices of the named symbols of allocated
	// sections, sorted by section, then name, then index; built on first
	// use. Like sections, it keeps a hostile object with many sections,
	// symbols and variables at n log n instead of n².
	byName []uint32
}

func (l *btfLayout) ByteOrder() binary.ByteOrder { return l.r.order }

func (l *btfLayout) SectionSize(name string) (uint64, bool) {
	i := l.find(name)
	if i < 0 {
		return 0, false
	}
	return l.r.sections[i].size, true
}

func (l *btfLayout) SymbolOffset(section, symbol string) (uint64, bool) {
	i := l.find(section)
	if i < 0 {
		return 0, false
	}
	r := l.r
	// Small objects and sections are searched, large ones indexed.
	if len(r.symbols) <= smallLayout {
		return l.searchSymbol(i, symbol)
	}
	if syms := r.sectionSymbols(i); len(syms) <= smallLayout {
		if sym := r.findSymbol(syms, symbol); sym != nil {
			return sym.value, true
		}
		// Not a symbol of interest (those of license, say): look in the
		// index.
	}
	return l.indexedSymbol(i, symbol)
}

// searchSymbol looks for symbol in section i among all symbols.
func (l *btfLayout) searchSymbol(i int, symbol string) (uint64, bool) {
	for j := range l.r.symbols {
		if sym := &l.r.symbols[j]; int(sym.section) == i && sym.name == symbol && layoutSymbol(sym) {
			return sym.value, true
		}
	}
	return 0, false
}

// indexedSymbol looks for symbol in section i in byName.
func (l *btfLayout) indexedSymbol(i int, symbol string) (uint64, bool) {
	r := l.r
	if l.byName == nil {
		l.sortByName()
	}
	j, found := slices.BinarySearchFunc(l.byName, symbol, func(k uint32, name string) int {
		sym := &r.symbols[k]
		if c := cmp.Compare(int(sym.section), i); c != 0 {
			return c
		}
		return strings.Compare(sym.name, name)
	})
	if !found {
		return 0, false
	}
	return r.symbols[l.byName[j]].value, true
}

// smallLayout is the number of sections or symbols up to which btfLayout
// searches instead of building an index.
const smallLayout = 64

// layoutSymbol reports whether sym can be a variable's symbol.
func layoutSymbol(sym *elfSymbol) bool {
	return sym.name != "" && sym.kind() != elf.STT_SECTION && sym.kind() != elf.STT_FILE
}

func (l *btfLayout) sortByName() {
	r := l.r
	l.byName = make([]uint32, 0, len(r.symbols))
	for j := range r.symbols {
		sym := &r.symbols[j]
		if !layoutSymbol(sym) {
			continue
		}
		if sec := r.section(sym.section); sec != nil && sec.flags&elf.SHF_ALLOC != 0 {
			l.byName = append(l.byName, uint32(j))
		}
	}
	slices.SortFunc(l.byName, func(a, b uint32) int {
		sa, sb := &r.symbols[a], &r.symbols[b]
		if c := cmp.Compare(sa.section, sb.section); c != 0 {
			return c
		}
		if c := strings.Compare(sa.name, sb.name); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

// find returns the index of the first allocated section called name, or
// -1.
func (l *btfLayout) find(name string) int {
	r := l.r
	if l.last >= 0 && r.sections[l.last].name == name {
		return l.last
	}
	if len(r.sections) <= smallLayout {
		for i := range r.sections {
			if sec := &r.sections[i]; sec.name == name && sec.flags&elf.SHF_ALLOC != 0 {
				l.last = i
				return i
			}
		}
		return -1
	}
	if l.sections == nil {
		l.sections = make([]uint32, 0, len(r.sections))
		for i := range r.sections {
			if r.sections[i].flags&elf.SHF_ALLOC != 0 {
				l.sections = append(l.sections, uint32(i))
			}
		}
		slices.SortStableFunc(l.sections, func(a, b uint32) int { return strings.Compare(r.sections[a].name, r.sections[b].name) })
	}
	j, found := slices.BinarySearchFunc(l.sections, name, func(i uint32, name string) int { return strings.Compare(r.sections[i].name, name) })
	if !found {
		return -1
	}
	l.last = int(l.sections[j])
	return l.last
}

// datasec returns the BTF datasec of the section called name, or nil if
// the object has none. btf has already given it the section's size and
// placed its variables at their symbols' offsets. index, the section's
// index or -1 for the datasecs that exist only in BTF (.kconfig, .ksyms),
// is no longer needed.
func (r *elfReader) datasec(name string, index int) (*btf.Datasec, error) {
	if r.btf == nil {
		return nil, nil
	}
	var ds *btf.Datasec
	if err := r.btf.TypeByName(name, &ds); err != nil {
		if errors.Is(err, btf.ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("BTF of section %q: %w", name, err)
	}
	return ds, nil
}

// extCursor walks the .BTF.ext records of one section in step with its
// instructions: function info, line info and CO-RE relocations, each
// sorted by offset.
type extCursor struct {
	funcs btf.FuncOffsets
	lines btf.LineOffsets
	relos btf.CORERelocationOffsets
}

// extInfos returns a cursor over the .BTF.ext records of section.
func (r *elfReader) extInfos(section string) extCursor {
	funcs, lines, relos := r.ext.Section(section)
	return extCursor{funcs, lines, relos}
}

// assign records, in b, the records of the instruction at raw, counted
// from the start of the section. Instructions must come in order; records
// that point between instructions are dropped.
func (c *extCursor) assign(b *asm.MetadataBuilder, raw asm.RawInstructionOffset) {
	for len(c.funcs) > 0 && c.funcs[0].Offset <= raw {
		if c.funcs[0].Offset == raw {
			btf.SetFuncMetadata(b, c.funcs[0].Func)
		}
		c.funcs = c.funcs[1:]
	}
	for len(c.lines) > 0 && c.lines[0].Offset <= raw {
		if c.lines[0].Offset == raw {
			b.SetSource(c.lines[0].Line)
		}
		c.lines = c.lines[1:]
	}
	for len(c.relos) > 0 && c.relos[0].Offset <= raw {
		if c.relos[0].Offset == raw {
			btf.SetCORERelocationMetadata(b, c.relos[0].Relo)
		}
		c.relos = c.relos[1:]
	}
}
