package ebpf

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bpfkit/ebpf/btf"
)

// The static linker turns several relocatable BPF objects into one, by the
// rules of libbpf's bpf_linker (what `bpftool gen object` runs), so that
// objects split across C files load like one. It works on the ELF level,
// like bpf_linker, and writes an ELF object; its only way back into the
// library is the ELF reader. It makes no syscalls.
//
//	elf_link.go        API; sections, symbols and relocations of each input
//	elf_link_btf.go    symbol types, map definitions, merged BTF and .BTF.ext
//	elf_link_write.go  the output object
//
// Sections are concatenated by name (each input's part aligned to its own
// alignment); "license" and "version" must agree and are kept once. Global
// symbols resolve by name: an extern takes the definition's place, a strong
// definition wins over weak ones, two strong definitions conflict, and
// every extern or definition must have the same BTF type as the winner
// (map definitions in .maps must agree field by field). Local symbols never
// resolve against anything. Relocations move with their sections; those
// against a section symbol of code get their immediate rebased.

// LinkObjects links relocatable BPF objects (clang -target bpf -c) into
// one and returns it as an ELF object, following libbpf's static linker
// (`bpftool gen object`): extern functions, variables and maps resolve
// against their definitions in other objects; __weak definitions yield to
// strong ones; static functions and variables stay private to their object.
// Read the result with LoadCollectionSpecFromReader, or write it to a file
// that libbpf and cilium/ebpf read too.
//
// The objects must have BTF (extern resolution compares types) and share a
// byte order, which the output has. Errors name the object (by its Name
// method if it has one, os.File does, else by position) and the symbol or
// section, with libbpf's wording. Linking needs no privileges and no
// kernel. An addition to cilium/ebpf's API.
func LinkObjects(objects ...io.ReaderAt) ([]byte, error) {
	var l objectLinker
	for i, rd := range objects {
		name := fmt.Sprintf("object %d", i)
		if n, ok := rd.(interface{ Name() string }); ok {
			name = n.Name()
		}
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
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := l.add(name, data); err != nil {
			return nil, err
		}
	}
	return l.finish()
}

// LinkObjectFiles links the objects at the given paths, like LinkObjects.
// An addition to cilium/ebpf's API.
func LinkObjectFiles(files ...string) ([]byte, error) {
	var l objectLinker
	for _, file := range files {
		data, err := readObjectFile(file)
		if err != nil {
			return nil, err
		}
		if err := l.add(file, data); err != nil {
			return nil, err
		}
	}
	return l.finish()
}

// LoadLinkedCollectionSpec links the objects at the given paths, like
// LinkObjectFiles, and reads the result into a CollectionSpec, like
// LoadCollectionSpec does for one object. An addition to cilium/ebpf's API.
func LoadLinkedCollectionSpec(files ...string) (*CollectionSpec, error) {
	obj, err := LinkObjectFiles(files...)
	if err != nil {
		return nil, err
	}
	spec, err := loadCollectionSpec(obj)
	if err != nil {
		return nil, fmt.Errorf("linked object: %w", err)
	}
	return spec, nil
}

// maxLinkAlign bounds the alignment of an input section, and so the
// padding the linker writes: clang aligns BPF sections to at most 8.
const maxLinkAlign = 4096

// errNoObjects is returned when there is nothing to link.
var errNoObjects = errors.New("link: no objects")

// objectLinker holds the output while inputs are added one by one.
type objectLinker struct {
	// secs are the output sections; secs[0] is a placeholder, so that 0
	// means "no section". secByName indexes them.
	secs      []*linkSection
	secByName map[string]int
	// nextELFIndex is the ELF index the next section with contents gets;
	// 1 and 2 are .strtab and .symtab.
	nextELFIndex int
	syms         []linkSymbol
	globals      map[string]*linkGlobal
	order        binaryOrder
	objects      []*linkObject
}

// binaryOrder is the byte order of the inputs, nil before the first.
type binaryOrder = interface {
	Uint16([]byte) uint16
	Uint32([]byte) uint32
	Uint64([]byte) uint64
	PutUint16([]byte, uint16)
	PutUint32([]byte, uint32)
	PutUint64([]byte, uint64)
	String() string
}

// linkSection is a section of the output.
type linkSection struct {
	name string
	// ephemeral sections exist only in BTF (.kconfig, .ksyms, and .maps
	// while it holds only externs): they have no ELF section.
	ephemeral bool
	elfIndex  int
	typ       elf.SectionType
	flags     elf.SectionFlag
	align     uint64
	entsize   uint64
	data      []byte // nil for SHT_NOBITS
	size      uint64
	// target is the section a SHT_REL section relocates.
	target int
	rels   []elfReloc
	// secSym is the section's STT_SECTION symbol, 0 if none.
	secSym uint32
	// hasBTF says that an input had a DATASEC for the section.
	hasBTF bool
	vars   []linkVar
	ext    btf.ExtSection
}

// linkVar is a variable (or function) of a section's DATASEC.
type linkVar struct {
	typ    btf.Type // the input's, for static ones
	global *linkGlobal
	offset uint32
	size   uint32
}

// linkSymbol is an entry of the output symbol table.
type linkSymbol struct {
	name  string
	info  byte
	other byte
	// sec is the output section, or 0; then shndx is the index to write.
	sec   int
	shndx elf.SectionIndex
	value uint64
	size  uint64
}

// linkGlobal is a global or weak symbol, resolved by name across inputs.
type linkGlobal struct {
	name string
	sym  uint32
	sec  int
	// typ is the BTF Var or Func of the definition that won, or of the
	// first extern while there is none; obj is the input it comes from.
	typ    btf.Type
	obj    *linkObject
	extern bool
	weak   bool
	// varIndex is the global's entry in its section's vars, or -1.
	varIndex int
}

// linkObject is one input.
type linkObject struct {
	name string
	f    *elfFile
	// secs has an entry per ELF section, then one per ephemeral section.
	secs   []linkInputSection
	symMap []uint32
	btf    *btf.Spec
	ext    *btf.ExtInfos
	// btfNames maps the names of non-static Vars and Funcs to their
	// type and DATASEC, filled on first use.
	btfNames map[string]btfGlobal
	// secByName indexes secs by name (the first of a name).
	secByName map[string]int
}

// linkInputSection is a section of an input.
type linkInputSection struct {
	name      string
	elf       *elfSection // nil if ephemeral
	ephemeral bool
	skipped   bool
	dst       int
	dstOff    uint64
}

func (l *objectLinker) init() {
	if l.secs != nil {
		return
	}
	l.secs = []*linkSection{nil}
	l.secByName = make(map[string]int)
	l.syms = []linkSymbol{{}}
	l.globals = make(map[string]*linkGlobal)
	l.nextELFIndex = 3
}

// add links the object in data, called name in errors.
func (l *objectLinker) add(name string, data []byte) error {
	l.init()
	obj, err := l.load(name, data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	l.objects = append(l.objects, obj)
	if err := l.appendSections(obj); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := l.appendSymbols(obj); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := l.appendRelocations(obj); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := l.appendDatasecs(obj); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := l.appendExtInfos(obj); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// isDWARF reports whether name is a DWARF section, which the output drops.
func isDWARF(name string) bool {
	return len(name) >= 6 && name[:6] == ".debug"
}

// load parses an input and checks what the linker relies on, as libbpf's
// sanity checks do.
func (l *objectLinker) load(name string, data []byte) (*linkObject, error) {
	f, err := parseELF(data)
	if err != nil {
		return nil, err
	}
	if l.order == nil {
		l.order = f.order
	} else if l.order != f.order {
		return nil, fmt.Errorf("byte order %s differs from the first object's (%s)", f.order, l.order)
	}
	obj := &linkObject{name: name, f: f, secs: make([]linkInputSection, len(f.sections))}
	var btfData, extData []byte
	symtab := -1
	for i := 1; i < len(f.sections); i++ {
		sec := &f.sections[i]
		in := &obj.secs[i]
		in.name, in.elf = sec.name, sec
		if sec.name == "" {
			return nil, fmt.Errorf("section %d has no name", i)
		}
		if sec.addralign&(sec.addralign-1) != 0 {
			return nil, fmt.Errorf("section %q: alignment %d is not a power of two", sec.name, sec.addralign)
		}
		if sec.addralign > maxLinkAlign {
			return nil, fmt.Errorf("section %q: alignment %d is larger than %d", sec.name, sec.addralign, maxLinkAlign)
		}
		if l.ignored(f, sec) {
			in.skipped = true
			continue
		}
		switch sec.typ {
		case elf.SHT_SYMTAB:
			symtab = i
		case elf.SHT_PROGBITS:
			switch sec.name {
			case ".BTF", ".BTF.ext":
				d, err := f.sectionData(sec)
				if err != nil {
					return nil, fmt.Errorf("section %q: %w", sec.name, err)
				}
				if sec.name == ".BTF" {
					btfData = d
				} else {
					extData = d
				}
				in.skipped = true
				continue
			}
			if sec.flags&elf.SHF_EXECINSTR != 0 && sec.size%8 != 0 {
				return nil, fmt.Errorf("section %q: size %d is not a multiple of the instruction size", sec.name, sec.size)
			}
			if _, err := f.sectionData(sec); err != nil {
				return nil, fmt.Errorf("section %q: %w", sec.name, err)
			}
		case elf.SHT_NOBITS, elf.SHT_STRTAB:
		case elf.SHT_REL:
			if err := checkRelSection(f, i, sec); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("section %q has unrecognized type %s", sec.name, sec.typ)
		}
	}
	if symtab < 0 {
		return nil, errors.New("no symbol table")
	}
	if err := checkSymbols(f); err != nil {
		return nil, err
	}
	obj.symMap = make([]uint32, len(f.symbols))
	if btfData != nil {
		spec, ext, err := btf.LoadSpecAndExtInfosFromSections(btfData, extData, newLinkLayout(f))
		if err != nil {
			return nil, err
		}
		obj.btf, obj.ext = spec, ext
	} else if extData != nil {
		return nil, errors.New("section .BTF.ext without .BTF")
	}
	if err := obj.addEphemeralSections(); err != nil {
		return nil, err
	}
	return obj, nil
}

// ignored reports whether libbpf's linker drops sec: string tables (the
// output has its own), address-significance tables, an empty .text, DWARF,
// and the relocations of DWARF, .BTF and .BTF.ext.
func (l *objectLinker) ignored(f *elfFile, sec *elfSection) bool {
	const shtLLVMAddrsig = 0x6fff4c03
	switch {
	case sec.typ == elf.SHT_STRTAB, sec.typ == shtLLVMAddrsig:
		return true
	case sec.typ == elf.SHT_PROGBITS && sec.size == 0 && sec.name == ".text":
		return true
	case isDWARF(sec.name):
		return true
	}
	if rest, ok := cutPrefix(sec.name, ".rel"); ok {
		return isDWARF(rest) || rest == ".BTF" || rest == ".BTF.ext"
	}
	return false
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

// checkRelSection checks a relocation section the way libbpf does before
// linking: it relocates the section its name says, its entries have known
// types and point at existing symbols.
func checkRelSection(f *elfFile, index int, sec *elfSection) error {
	if sec.entsize != elfRelSize {
		return fmt.Errorf("section %q: relocation size %d, want %d", sec.name, sec.entsize, elfRelSize)
	}
	if sec.info == 0 || uint64(sec.info) >= uint64(len(f.sections)) {
		return fmt.Errorf("section %q relocates section %d, which does not exist", sec.name, sec.info)
	}
	if int(sec.link) >= len(f.sections) || f.sections[sec.link].typ != elf.SHT_SYMTAB {
		return fmt.Errorf("section %q: section %d is not the symbol table", sec.name, sec.link)
	}
	target := &f.sections[sec.info]
	if rest, _ := cutPrefix(sec.name, ".rel"); rest != target.name || len(rest) == len(sec.name) {
		return fmt.Errorf("section %q relocates section %q: the name should be %q", sec.name, target.name, ".rel"+target.name)
	}
	if target.typ != elf.SHT_PROGBITS && target.typ != elf.SHT_NOBITS {
		return fmt.Errorf("section %q relocates section %q of type %s", sec.name, target.name, target.typ)
	}
	rels, err := f.relocations(sec)
	if err != nil {
		return err
	}
	for _, r := range rels {
		// R_BPF_64_64, R_BPF_64_ABS64, R_BPF_64_ABS32, R_BPF_64_32.
		switch r.typ {
		case 1, 2, 3, 10:
		default:
			return fmt.Errorf("section %q: relocation at %d has unexpected type %d", sec.name, r.offset, r.typ)
		}
		if target.flags&elf.SHF_EXECINSTR != 0 && r.offset%8 != 0 {
			return fmt.Errorf("section %q: relocation at %d is not at an instruction", sec.name, r.offset)
		}
		if r.offset >= target.size {
			return fmt.Errorf("section %q: relocation at %d is beyond the end of section %q", sec.name, r.offset, target.name)
		}
	}
	return nil
}

// checkSymbols refuses symbols the linker can't place: unknown bindings
// or visibilities, malformed externs, and sections that don't exist.
func checkSymbols(f *elfFile) error {
	for i := 1; i < len(f.symbols); i++ {
		sym := &f.symbols[i]
		switch sym.binding() {
		case elf.STB_LOCAL, elf.STB_GLOBAL, elf.STB_WEAK:
		default:
			return fmt.Errorf("symbol %q has unsupported binding %s", sym.name, sym.binding())
		}
		switch sym.visibility() {
		case elf.STV_DEFAULT, elf.STV_HIDDEN:
		default:
			return fmt.Errorf("symbol %q has unsupported visibility %s", sym.name, sym.visibility())
		}
		if sym.section == elf.SHN_UNDEF {
			if sym.kind() != elf.STT_NOTYPE || sym.binding() == elf.STB_LOCAL || sym.value != 0 || sym.size != 0 {
				return fmt.Errorf("symbol %q is an invalid extern", sym.name)
			}
			continue
		}
		if sym.section < elf.SHN_LORESERVE && int(sym.section) >= len(f.sections) {
			return fmt.Errorf("symbol %q is in section %d, which does not exist", sym.name, sym.section)
		}
		if sym.kind() == elf.STT_SECTION && sym.value != 0 {
			return fmt.Errorf("section symbol %q has value %d", sym.name, sym.value)
		}
	}
	return nil
}

// addEphemeralSections adds an input section for every DATASEC without an
// ELF section (.kconfig, .ksyms, .maps of externs), except .extern, which
// holds the externs the linker resolves.
func (obj *linkObject) addEphemeralSections() error {
	if obj.btf == nil {
		return nil
	}
	for t, err := range obj.btf.All() {
		if err != nil {
			return fmt.Errorf("BTF: %w", err)
		}
		ds, ok := t.(*btf.Datasec)
		if !ok || ds.Name == ".extern" || obj.section(ds.Name) >= 0 {
			continue
		}
		obj.secs = append(obj.secs, linkInputSection{name: ds.Name, ephemeral: true})
		obj.secByName = nil
	}
	return nil
}

// section returns the index of the input section called name, or -1.
func (obj *linkObject) section(name string) int {
	if obj.secByName == nil {
		obj.secByName = make(map[string]int, len(obj.secs))
		for i := len(obj.secs) - 1; i >= 1; i-- {
			obj.secByName[obj.secs[i].name] = i
		}
	}
	if i, ok := obj.secByName[name]; ok {
		return i
	}
	return -1
}

// isDataInput reports whether sec contributes contents (or, if ephemeral,
// a DATASEC) to the output.
func (in *linkInputSection) isData() bool {
	if in.skipped {
		return false
	}
	return in.ephemeral || in.elf.typ == elf.SHT_PROGBITS || in.elf.typ == elf.SHT_NOBITS
}

func (l *objectLinker) findSection(name string) int {
	if i, ok := l.secByName[name]; ok {
		return i
	}
	return -1
}

// newSection adds an output section shaped like in.
func (l *objectLinker) newSection(in *linkInputSection) int {
	sec := &linkSection{name: in.name}
	l.initSection(sec, in)
	l.secs = append(l.secs, sec)
	l.secByName[in.name] = len(l.secs) - 1
	return len(l.secs) - 1
}

// initSection gives sec the shape of in; ephemeral sections only get a
// name.
func (l *objectLinker) initSection(sec *linkSection, in *linkInputSection) {
	sec.ephemeral = in.ephemeral
	if in.ephemeral {
		return
	}
	sec.elfIndex = l.nextELFIndex
	l.nextELFIndex++
	sec.typ, sec.flags = in.elf.typ, in.elf.flags
	sec.align, sec.entsize = in.elf.addralign, in.elf.entsize
}

// compatible reports why sections of one name can't be merged.
func compatible(sec *linkSection, in *linkInputSection) error {
	if sec.ephemeral || in.ephemeral {
		return nil
	}
	switch {
	case sec.typ != in.elf.typ:
		return fmt.Errorf("section %q: types %s and %s mismatch", sec.name, sec.typ, in.elf.typ)
	case sec.flags != in.elf.flags:
		return fmt.Errorf("section %q: flags %s and %s mismatch", sec.name, sec.flags, in.elf.flags)
	case sec.entsize != in.elf.entsize:
		return fmt.Errorf("section %q: entry sizes %d and %d mismatch", sec.name, sec.entsize, in.elf.entsize)
	}
	return nil
}

// extend appends in to sec at in's alignment and records where it went.
func (l *objectLinker) extend(sec *linkSection, in *linkInputSection, f *elfFile) error {
	if in.ephemeral {
		return nil
	}
	if sec.ephemeral {
		// .maps with externs only so far: now it gets contents.
		l.initSection(sec, in)
	}
	align := max(sec.align, 1, in.elf.addralign)
	start := (sec.size + align - 1) / align * align
	if in.elf.size > maxObjectSize || start > maxObjectSize-in.elf.size {
		return fmt.Errorf("section %q: more than %d bytes", sec.name, maxObjectSize)
	}
	if in.elf.typ != elf.SHT_NOBITS {
		data, err := f.sectionData(in.elf)
		if err != nil {
			return fmt.Errorf("section %q: %w", in.name, err)
		}
		sec.data = append(sec.data, make([]byte, start-uint64(len(sec.data)))...)
		sec.data = append(sec.data, data...)
	}
	sec.size = start + in.elf.size
	sec.align = align
	in.dstOff = start
	return nil
}

// appendSections merges the sections with contents (and the ephemeral
// ones) of obj into the output.
func (l *objectLinker) appendSections(obj *linkObject) error {
	for i := 1; i < len(obj.secs); i++ {
		in := &obj.secs[i]
		if !in.isData() {
			continue
		}
		dst := l.findSection(in.name)
		if dst < 0 {
			dst = l.newSection(in)
		} else {
			if err := compatible(l.secs[dst], in); err != nil {
				return err
			}
			if in.name == "license" || in.name == "version" {
				if err := sameContents(l.secs[dst], in, obj.f); err != nil {
					return err
				}
				in.skipped = true
				in.dst = dst
				continue
			}
		}
		in.dst = dst
		if err := l.extend(l.secs[dst], in, obj.f); err != nil {
			return err
		}
	}
	return nil
}

// sameContents checks that a license or version section repeats the one
// already linked.
func sameContents(sec *linkSection, in *linkInputSection, f *elfFile) error {
	data, err := f.sectionData(in.elf)
	if err != nil {
		return fmt.Errorf("section %q: %w", in.name, err)
	}
	if sec.size != in.elf.size || !bytes.Equal(sec.data, data) {
		return fmt.Errorf("section %q: contents differ from an earlier object's, which is not supported", in.name)
	}
	return nil
}
