package ebpf

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
)

// The ELF reader turns a clang-built object into a CollectionSpec. Apart
// from reading the file it makes no syscalls (and never bpf(2)); its result
// depends on nothing but the object's bytes, not on the machine or kernel.
//
// It works in phases, one file each:
//
//	elf_file.go        read header, sections, symbols, relocations (wire layer)
//	elf_reader.go      classify sections, sort symbols, license and version
//	elf_btf.go         load .BTF and .BTF.ext
//	elf_maps.go        legacy "maps" and BTF ".maps" definitions
//	elf_data.go        .data/.rodata/.bss as maps, their variables
//	elf_externs.go     .kconfig and .ksyms externs (read when programs use them)
//	elf_struct_ops.go  .struct_ops and .struct_ops.link maps
//	elf_programs.go    programs: functions, relocations, subprogram linking
//	elf_sections.go    program type, attach type and flags from section names

// LoadCollectionSpec reads the BPF object at file (an ELF file built by
// clang with -target bpf) into a CollectionSpec.
//
// It reads the whole file into memory, then parses it without further
// syscalls; it needs no privileges and works with any kernel, or none. BTF
// types are decoded lazily: only those that maps, variables and programs
// refer to are decoded while reading. Errors name the file, and the section
// and symbol at fault.
func LoadCollectionSpec(file string) (*CollectionSpec, error) {
	data, err := readObjectFile(file)
	if err != nil {
		return nil, err
	}
	spec, err := loadCollectionSpec(data)
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", file, err)
	}
	return spec, nil
}

// LoadCollectionSpecFromReader reads a BPF object from rd into a
// CollectionSpec, like LoadCollectionSpec.
//
// The object is read into memory first: in one call if rd reports its size
// (bytes.Reader, io.SectionReader, os.File), otherwise in growing chunks
// until io.EOF.
func LoadCollectionSpecFromReader(rd io.ReaderAt) (*CollectionSpec, error) {
	size := int64(-1)
	switch r := rd.(type) {
	case interface{ Size() int64 }:
		size = r.Size()
	case *os.File:
		if fi, err := r.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	data, err := readObject(rd, size)
	if err != nil {
		return nil, err
	}
	return loadCollectionSpec(data)
}

// sectionKind says what the reader makes of a section.
type sectionKind uint8

const (
	otherSection sectionKind = iota
	programSection
	legacyMapSection
	btfMapSection
	dataSection
	structOpsSection
)

// symbolSpan is the range of elfReader.sorted that belongs to a section.
type symbolSpan struct{ lo, hi int32 }

// elfReader holds the state of one read. Each phase adds to it.
type elfReader struct {
	*elfFile

	// Indexed by section.
	kinds  []sectionKind
	relocs [][]elfReloc // relocations applying to the section
	refs   []uint32     // relocations in program sections pointing at it
	spans  []symbolSpan // where the section's symbols are in sorted

	// sorted holds indices into symbols of the symbols that name maps,
	// variables and functions, sorted by section and value.
	sorted []uint32

	license string
	version uint32

	btf *btf.Spec
	ext *btf.ExtInfos

	// meta builds the metadata of one instruction at a time: its symbol,
	// reference, externs and .BTF.ext records in one table.
	meta asm.MetadataBuilder

	maps  map[string]*MapSpec
	vars  map[string]*VariableSpec
	progs map[string]*ProgramSpec

	// externsLoaded is set once .kconfig and .ksyms are read, which
	// happens when a program first refers to an undefined symbol.
	externsLoaded bool
	// kconfig is the map of .kconfig externs; it is not part of Maps.
	kconfig *MapSpec
	// ksyms is the .ksyms datasec: kfuncs and kernel variables.
	ksyms *btf.Datasec
	// structOps are the struct_ops maps, to associate with programs.
	structOps []structOpsVar
	// funcNames renames static functions of .text whose name another
	// function has too (see uniqueFunctionNames).
	funcNames map[*elfSymbol]string
}

func loadCollectionSpec(data []byte) (*CollectionSpec, error) {
	f, err := parseELF(data)
	if err != nil {
		return nil, err
	}
	r := &elfReader{elfFile: f}
	if err := r.classifySections(); err != nil {
		return nil, err
	}
	r.sortSymbols()
	if err := r.readRelocations(); err != nil {
		return nil, err
	}
	if err := r.loadBTF(); err != nil {
		return nil, err
	}

	r.maps = make(map[string]*MapSpec)
	r.vars = make(map[string]*VariableSpec)
	if err := r.loadLegacyMaps(); err != nil {
		return nil, err
	}
	if err := r.loadBTFMaps(); err != nil {
		return nil, err
	}
	if err := r.loadDataSections(); err != nil {
		return nil, err
	}
	if err := r.loadStructOpsMaps(); err != nil {
		return nil, err
	}
	if err := r.loadPrograms(); err != nil {
		return nil, err
	}
	if err := r.associateStructOps(); err != nil {
		return nil, err
	}

	return &CollectionSpec{
		Maps:      r.maps,
		Programs:  r.progs,
		Variables: r.vars,
		Types:     r.btf,
		ByteOrder: r.order,
	}, nil
}

// Names of sections with a fixed meaning.
const (
	structOpsSectionName     = ".struct_ops"
	structOpsLinkSectionName = ".struct_ops.link"
)

// classifySections decides what each section is, and reads the license and
// version.
func (r *elfReader) classifySections() error {
	r.kinds = make([]sectionKind, len(r.sections))
	var license, version *elfSection
	for i := range r.sections {
		sec := &r.sections[i]
		switch {
		case sec.typ == elf.SHT_NULL:
		case strings.HasPrefix(sec.name, "license"):
			license = sec
		case strings.HasPrefix(sec.name, "version"):
			version = sec
		case strings.HasPrefix(sec.name, "maps"):
			r.kinds[i] = legacyMapSection
		case sec.name == ".maps":
			r.kinds[i] = btfMapSection
		case isDataSection(sec.name) && (sec.typ == elf.SHT_PROGBITS || sec.typ == elf.SHT_NOBITS):
			r.kinds[i] = dataSection
		case sec.typ == elf.SHT_PROGBITS && sec.flags&elf.SHF_EXECINSTR != 0 && sec.size > 0:
			r.kinds[i] = programSection
		case sec.name == structOpsSectionName || sec.name == structOpsLinkSectionName:
			if sec.typ == elf.SHT_PROGBITS || sec.typ == elf.SHT_NOBITS {
				r.kinds[i] = structOpsSection
			}
		}
	}

	if license != nil {
		data, err := r.sectionData(license)
		if err != nil {
			return fmt.Errorf("section %q: %w", license.name, err)
		}
		// Like a C string: up to the first NUL.
		if i := bytes.IndexByte(data, 0); i >= 0 {
			data = data[:i]
		}
		r.license = string(data)
	}
	if version != nil {
		data, err := r.sectionData(version)
		if err != nil {
			return fmt.Errorf("section %q: %w", version.name, err)
		}
		if len(data) < 4 {
			return fmt.Errorf("section %q: %d bytes are too few for a version", version.name, len(data))
		}
		r.version = r.order.Uint32(data)
	}
	return nil
}

// isDataSection reports whether libbpf turns a section of this name into a
// global data map.
func isDataSection(name string) bool {
	for _, prefix := range [...]string{".data", ".rodata", ".bss"} {
		if rest, ok := strings.CutPrefix(name, prefix); ok && (rest == "" || rest[0] == '.') {
			return true
		}
	}
	return false
}

// sortSymbols collects the symbols that name functions, maps and variables,
// sorted by section and offset, so that each section finds its symbols in
// r.spans.
func (r *elfReader) sortSymbols() {
	r.spans = make([]symbolSpan, len(r.sections))
	n := 0
	for i := range r.symbols {
		if r.symbolOfInterest(&r.symbols[i]) {
			n++
		}
	}
	if n == 0 {
		return
	}
	r.sorted = make([]uint32, 0, n)
	for i := range r.symbols {
		if r.symbolOfInterest(&r.symbols[i]) {
			r.sorted = append(r.sorted, uint32(i))
		}
	}
	slices.SortFunc(r.sorted, func(a, b uint32) int {
		sa, sb := &r.symbols[a], &r.symbols[b]
		switch {
		case sa.section != sb.section:
			return int(sa.section) - int(sb.section)
		case sa.value < sb.value:
			return -1
		case sa.value > sb.value:
			return 1
		}
		return int(a) - int(b)
	})
	for i := 0; i < len(r.sorted); {
		sec := r.symbols[r.sorted[i]].section
		j := i + 1
		for j < len(r.sorted) && r.symbols[r.sorted[j]].section == sec {
			j++
		}
		r.spans[sec] = symbolSpan{int32(i), int32(j)}
		i = j
	}
}

// symbolOfInterest reports whether sym names a function of a program
// section or an object of a map, data or struct_ops section.
func (r *elfReader) symbolOfInterest(sym *elfSymbol) bool {
	if sym.name == "" || int(sym.section) >= len(r.kinds) {
		return false
	}
	switch r.kinds[sym.section] {
	case programSection:
		switch sym.kind() {
		case elf.STT_FUNC:
			return true
		case elf.STT_NOTYPE:
			// Clang before 8 wrote NOTYPE function symbols; local NOTYPE
			// symbols are jump labels.
			return sym.binding() != elf.STB_LOCAL
		}
	case legacyMapSection, btfMapSection, dataSection, structOpsSection:
		return sym.kind() == elf.STT_OBJECT || sym.kind() == elf.STT_NOTYPE
	}
	return false
}

// sectionSymbols returns the indices of the symbols of interest of a
// section, sorted by offset.
func (r *elfReader) sectionSymbols(index int) []uint32 {
	span := r.spans[index]
	return r.sorted[span.lo:span.hi]
}

// symbolAt returns the symbol of interest at offset in section index.
func (r *elfReader) symbolAt(index int, offset uint64) (*elfSymbol, bool) {
	syms := r.sectionSymbols(index)
	i, ok := slices.BinarySearchFunc(syms, offset, func(s uint32, off uint64) int {
		switch v := r.symbols[s].value; {
		case v < off:
			return -1
		case v > off:
			return 1
		}
		return 0
	})
	if !ok {
		return nil, false
	}
	return &r.symbols[syms[i]], true
}

// readRelocations reads the relocation sections of program, map and
// struct_ops sections, and counts the references of programs to each
// section. Relocations of other sections (data, debug info) are of no use
// to a loader.
func (r *elfReader) readRelocations() error {
	r.relocs = make([][]elfReloc, len(r.sections))
	r.refs = make([]uint32, len(r.sections))
	for i := range r.sections {
		sec := &r.sections[i]
		if sec.typ != elf.SHT_REL && sec.typ != elf.SHT_RELA {
			continue
		}
		target := sec.info
		if uint64(target) >= uint64(len(r.sections)) {
			continue
		}
		switch r.kinds[target] {
		case programSection, btfMapSection, structOpsSection:
		default:
			continue
		}
		relocs, err := r.relocations(sec)
		if err != nil {
			return err
		}
		if r.relocs[target] != nil {
			return fmt.Errorf("section %q: more than one relocation section", r.sections[target].name)
		}
		r.relocs[target] = relocs
		if r.kinds[target] == programSection {
			for _, rel := range relocs {
				if s := r.symbols[rel.symbol].section; int(s) < len(r.refs) {
					r.refs[s]++
				}
			}
		}
	}
	return nil
}

// symbolName names sym for an error message: section symbols are named
// after their section.
func (r *elfReader) symbolName(sym *elfSymbol) string {
	if sym.kind() == elf.STT_SECTION {
		if s := r.section(sym.section); s != nil {
			return s.name
		}
	}
	return sym.name
}
