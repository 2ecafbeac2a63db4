package ebpf

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// This file is the wire layer of the ELF reader: it reads the bytes of an
// object into elfFile, checking every offset and count against the bytes
// that exist. Nothing above it looks at raw ELF structures.
//
// Only what BPF objects use is supported: 64-bit relocatable files (ET_REL)
// for EM_BPF, in either byte order. Section and symbol names share the memory
// of one string per string table, so reading an object allocates a handful
// of times, not once per symbol.

// Sizes of the ELF64 records we read (Elf64_Ehdr, Elf64_Shdr, Elf64_Sym,
// Elf64_Rel, Elf64_Rela).
const (
	elfHeaderSize  = 64
	elfSectionSize = 64
	elfSymbolSize  = 24
	elfRelSize     = 16
	elfRelaSize    = 24
)

// maxObjectSize bounds the objects we read: far more than any BPF object,
// small enough that offsets fit every integer type we use.
const maxObjectSize = 1<<31 - 1

// errObjectTooLarge is returned for inputs larger than maxObjectSize.
var errObjectTooLarge = fmt.Errorf("object is larger than %d bytes", maxObjectSize)

// elfFile is a BPF object: its bytes, byte order, sections and symbols.
type elfFile struct {
	data     []byte
	order    binary.ByteOrder
	sections []elfSection
	// symbols holds the symbol table; symbols[0] is the null symbol.
	symbols []elfSymbol
}

// elfSection is a section header, with its name resolved.
type elfSection struct {
	name      string
	typ       elf.SectionType
	flags     elf.SectionFlag
	offset    uint64
	size      uint64
	link      uint32
	info      uint32
	addralign uint64
	entsize   uint64
}

// elfSymbol is an entry of the symbol table, with its name resolved.
type elfSymbol struct {
	name    string
	value   uint64
	size    uint64
	section elf.SectionIndex
	info    byte
	other   byte
}

func (s *elfSymbol) kind() elf.SymType      { return elf.ST_TYPE(s.info) }
func (s *elfSymbol) binding() elf.SymBind   { return elf.ST_BIND(s.info) }
func (s *elfSymbol) visibility() elf.SymVis { return elf.ST_VISIBILITY(s.other) }

// elfReloc is an entry of a SHT_REL section: the offset it patches in its
// target section and the index of the symbol it refers to.
type elfReloc struct {
	offset uint64
	symbol uint32
	typ    uint32
}

// readObjectFile reads the object at path into memory. It uses the
// syscalls directly: an os.File costs allocations and a finalizer, which
// show when reading many small objects.
func readObjectFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size > 0 {
		if st.Size > maxObjectSize {
			return nil, &os.PathError{Op: "read", Path: path, Err: errObjectTooLarge}
		}
		// A regular file is read as large as fstat says, in one pread
		// (pread until EOF would cost a second one per file); a file that
		// grows meanwhile is read as it was. Files that claim to be empty
		// (some of /proc) are read until EOF.
		data := make([]byte, st.Size)
		n, err := fdReaderAt(fd).ReadAt(data, 0)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		return data[:n], nil
	}
	data, err := readObject(fdReaderAt(fd), -1)
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: err}
	}
	return data, nil
}

// fdReaderAt reads a file descriptor with pread(2).
type fdReaderAt int

func (fd fdReaderAt) ReadAt(p []byte, off int64) (int, error) {
	total := 0
	for len(p) > 0 {
		n, err := unix.Pread(int(fd), p, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, io.EOF
		}
		total += n
		p, off = p[n:], off+int64(n)
	}
	return total, nil
}

// readObject reads all bytes of rd. size is the size rd announces, or -1.
// The buffer grows only as data arrives, so a reader that announces more
// than it holds can't make us allocate much more than it holds.
func readObject(rd io.ReaderAt, size int64) ([]byte, error) {
	if size > maxObjectSize {
		return nil, errObjectTooLarge
	}
	const chunk = 1 << 20
	var buf []byte
	if size >= 0 {
		// One read for objects of normal size; +1 to see EOF right away
		// when the reader holds exactly what it announced.
		buf = make([]byte, 0, min(size, chunk)+1)
	} else {
		buf = make([]byte, 0, 64<<10)
	}
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= maxObjectSize {
				return nil, errObjectTooLarge
			}
			buf = slices.Grow(buf, min(len(buf), chunk))
		}
		n, err := rd.ReadAt(buf[len(buf):cap(buf)], int64(len(buf)))
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, io.ErrNoProgress
		}
	}
}

// parseELF reads the header, section headers and symbol table of data.
func parseELF(data []byte) (*elfFile, error) {
	if len(data) < elfHeaderSize {
		return nil, fmt.Errorf("not an ELF object: %d bytes are too short for a header", len(data))
	}
	if string(data[:4]) != elf.ELFMAG {
		return nil, errors.New("not an ELF object: bad magic")
	}
	if elf.Class(data[elf.EI_CLASS]) != elf.ELFCLASS64 {
		return nil, fmt.Errorf("ELF class %s: BPF objects are 64-bit", elf.Class(data[elf.EI_CLASS]))
	}
	f := &elfFile{data: data}
	switch elf.Data(data[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		f.order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		f.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("unknown ELF data encoding %d", data[elf.EI_DATA])
	}
	bo := f.order
	if v := elf.Version(data[elf.EI_VERSION]); v != elf.EV_CURRENT {
		return nil, fmt.Errorf("unknown ELF version %d", v)
	}
	if typ := elf.Type(bo.Uint16(data[16:])); typ != elf.ET_REL {
		return nil, fmt.Errorf("ELF type %s: BPF objects are relocatable files (ET_REL)", typ)
	}
	// Old versions of LLVM wrote EM_NONE.
	if m := elf.Machine(bo.Uint16(data[18:])); m != elf.EM_BPF && m != elf.EM_NONE {
		return nil, fmt.Errorf("ELF machine %s is not BPF", m)
	}

	shoff := bo.Uint64(data[40:])
	shentsize := bo.Uint16(data[58:])
	shnum := uint64(bo.Uint16(data[60:]))
	shstrndx := uint32(bo.Uint16(data[62:]))
	if shoff == 0 {
		return nil, errors.New("ELF object has no section headers")
	}
	if shentsize != elfSectionSize {
		return nil, fmt.Errorf("section header size %d, want %d", shentsize, elfSectionSize)
	}
	if shoff > uint64(len(data)) || uint64(len(data))-shoff < elfSectionSize {
		return nil, fmt.Errorf("section headers at %d are beyond the end of the object", shoff)
	}
	if shnum == 0 {
		// Extended numbering: the count is in the first header.
		shnum = bo.Uint64(data[shoff+32:])
	}
	if shstrndx == uint32(elf.SHN_XINDEX) {
		shstrndx = bo.Uint32(data[shoff+40:])
	}
	if shnum > (uint64(len(data))-shoff)/elfSectionSize {
		return nil, fmt.Errorf("%d section headers at %d are beyond the end of the object", shnum, shoff)
	}

	f.sections = make([]elfSection, shnum)
	for i := range f.sections {
		h := data[shoff+uint64(i)*elfSectionSize:]
		f.sections[i] = elfSection{
			typ:       elf.SectionType(bo.Uint32(h[4:])),
			flags:     elf.SectionFlag(bo.Uint64(h[8:])),
			offset:    bo.Uint64(h[24:]),
			size:      bo.Uint64(h[32:]),
			link:      bo.Uint32(h[40:]),
			info:      bo.Uint32(h[44:]),
			addralign: bo.Uint64(h[48:]),
			entsize:   bo.Uint64(h[56:]),
		}
	}

	strtabs := stringTables{file: f}
	if shstrndx != uint32(elf.SHN_UNDEF) {
		names, err := strtabs.get(shstrndx)
		if err != nil {
			return nil, fmt.Errorf("section names: %w", err)
		}
		for i := range f.sections {
			off := bo.Uint32(data[shoff+uint64(i)*elfSectionSize:])
			name, ok := cstring(names, off)
			if !ok {
				return nil, fmt.Errorf("section %d: name offset %d is out of bounds", i, off)
			}
			f.sections[i].name = name
		}
	}

	if err := f.readSymbols(&strtabs); err != nil {
		return nil, err
	}
	return f, nil
}

// stringTables converts each string table to a Go string once; names are
// substrings of it and need no allocation of their own.
type stringTables struct {
	file  *elfFile
	index [2]uint32
	table [2]string
	n     int
}

func (st *stringTables) get(index uint32) (string, error) {
	for i := 0; i < st.n; i++ {
		if st.index[i] == index {
			return st.table[i], nil
		}
	}
	if uint64(index) >= uint64(len(st.file.sections)) {
		return "", fmt.Errorf("string table %d does not exist", index)
	}
	sec := &st.file.sections[index]
	if sec.typ != elf.SHT_STRTAB {
		return "", fmt.Errorf("section %q is not a string table", sec.name)
	}
	data, err := st.file.sectionData(sec)
	if err != nil {
		return "", fmt.Errorf("section %q: %w", sec.name, err)
	}
	tab := string(data)
	if st.n < len(st.index) {
		st.index[st.n], st.table[st.n] = index, tab
		st.n++
	}
	return tab, nil
}

// cstring returns the NUL-terminated string at off in tab.
func cstring(tab string, off uint32) (string, bool) {
	if uint64(off) >= uint64(len(tab)) {
		return "", off == 0
	}
	s := tab[off:]
	end := strings.IndexByte(s, 0)
	if end < 0 {
		return "", false
	}
	return s[:end], true
}

// readSymbols reads the symbol table, if the object has one.
func (f *elfFile) readSymbols(strtabs *stringTables) error {
	var symtab *elfSection
	for i := range f.sections {
		if f.sections[i].typ != elf.SHT_SYMTAB {
			continue
		}
		if symtab != nil {
			return errors.New("more than one symbol table")
		}
		symtab = &f.sections[i]
	}
	if symtab == nil {
		return nil
	}
	if symtab.entsize != elfSymbolSize {
		return fmt.Errorf("section %q: symbol size %d, want %d", symtab.name, symtab.entsize, elfSymbolSize)
	}
	data, err := f.sectionData(symtab)
	if err != nil {
		return fmt.Errorf("section %q: %w", symtab.name, err)
	}
	names, err := strtabs.get(symtab.link)
	if err != nil {
		return fmt.Errorf("section %q: symbol names: %w", symtab.name, err)
	}
	n := len(data) / elfSymbolSize
	if n == 0 {
		return nil
	}
	bo := f.order
	f.symbols = make([]elfSymbol, n)
	for i := range f.symbols {
		e := data[i*elfSymbolSize:]
		nameOff := bo.Uint32(e)
		name, ok := cstring(names, nameOff)
		if !ok {
			return fmt.Errorf("section %q: symbol %d: name offset %d is out of bounds", symtab.name, i, nameOff)
		}
		f.symbols[i] = elfSymbol{
			name:    name,
			info:    e[4],
			other:   e[5],
			section: elf.SectionIndex(bo.Uint16(e[6:])),
			value:   bo.Uint64(e[8:]),
			size:    bo.Uint64(e[16:]),
		}
	}
	return nil
}

// sectionData returns the bytes of sec, without copying. SHT_NOBITS
// sections have none. Errors don't name the section: callers do.
func (f *elfFile) sectionData(sec *elfSection) ([]byte, error) {
	if sec.typ == elf.SHT_NOBITS {
		return nil, nil
	}
	if sec.flags&elf.SHF_COMPRESSED != 0 {
		return nil, fmt.Errorf("compressed sections are not supported: %w", ErrNotSupported)
	}
	if sec.offset > uint64(len(f.data)) || sec.size > uint64(len(f.data))-sec.offset {
		return nil, fmt.Errorf("%d bytes at %d are beyond the end of the object", sec.size, sec.offset)
	}
	return f.data[sec.offset : sec.offset+sec.size : sec.offset+sec.size], nil
}

// section returns the section at index, or nil.
func (f *elfFile) section(index elf.SectionIndex) *elfSection {
	if int(index) >= len(f.sections) {
		return nil
	}
	return &f.sections[index]
}

// relocations decodes a SHT_REL section, sorted by offset.
func (f *elfFile) relocations(sec *elfSection) ([]elfReloc, error) {
	if sec.typ != elf.SHT_REL {
		return nil, fmt.Errorf("section %q: relocations with addends (%s) are not supported", sec.name, sec.typ)
	}
	if sec.entsize != elfRelSize {
		return nil, fmt.Errorf("section %q: relocation size %d, want %d", sec.name, sec.entsize, elfRelSize)
	}
	data, err := f.sectionData(sec)
	if err != nil {
		return nil, fmt.Errorf("section %q: %w", sec.name, err)
	}
	n := len(data) / elfRelSize
	if n == 0 {
		return nil, nil
	}
	bo := f.order
	relocs := make([]elfReloc, n)
	sorted := true
	for i := range relocs {
		e := data[i*elfRelSize:]
		info := bo.Uint64(e[8:])
		relocs[i] = elfReloc{
			offset: bo.Uint64(e),
			symbol: elf.R_SYM64(info),
			typ:    elf.R_TYPE64(info),
		}
		if relocs[i].symbol == 0 || uint64(relocs[i].symbol) >= uint64(len(f.symbols)) {
			return nil, fmt.Errorf("section %q: relocation %d refers to symbol %d, which does not exist", sec.name, i, relocs[i].symbol)
		}
		if i > 0 && relocs[i].offset <= relocs[i-1].offset {
			sorted = false
		}
	}
	if !sorted {
		slices.SortStableFunc(relocs, func(a, b elfReloc) int {
			switch {
			case a.offset < b.offset:
				return -1
			case a.offset > b.offset:
				return 1
			}
			return 0
		})
		for i := 1; i < len(relocs); i++ {
			if relocs[i].offset == relocs[i-1].offset {
				return nil, fmt.Errorf("section %q: two relocations at offset %d", sec.name, relocs[i].offset)
			}
		}
	}
	return relocs, nil
}

// relocAt returns the relocation at offset in relocs, which are sorted.
func relocAt(relocs []elfReloc, offset uint64) (elfReloc, bool) {
	i, ok := slices.BinarySearchFunc(relocs, offset, func(r elfReloc, off uint64) int {
		switch {
		case r.offset < off:
			return -1
		case r.offset > off:
			return 1
		}
		return 0
	})
	if !ok {
		return elfReloc{}, false
	}
	return relocs[i], true
}
