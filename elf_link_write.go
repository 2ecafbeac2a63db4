package ebpf

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"slices"
)

// finish writes the linked object.
func (l *objectLinker) finish() ([]byte, error) {
	if len(l.objects) == 0 {
		return nil, errNoObjects
	}
	btfData, extData, err := l.buildBTF()
	if err != nil {
		return nil, fmt.Errorf("link: %w", err)
	}
	return l.write(btfData, extData)
}

// outSection is a section header and its contents, ready to write.
type outSection struct {
	name    string
	typ     elf.SectionType
	flags   elf.SectionFlag
	link    uint32
	info    uint32
	align   uint64
	entsize uint64
	data    []byte
	size    uint64
}

// write lays out the output: the ELF header, the contents of every section
// aligned as it demands, then the section headers. Local symbols come
// first in the symbol table, as ELF requires (libbpf leaves them mixed).
func (l *objectLinker) write(btfData, extData []byte) ([]byte, error) {
	bo := l.order.(binary.ByteOrder)
	app := l.order.(binary.AppendByteOrder)

	// Symbols: locals first, keeping the order within each group.
	newIndex := make([]uint32, len(l.syms))
	order := make([]int, 0, len(l.syms))
	for pass := range 2 {
		for i := 1; i < len(l.syms); i++ {
			if local := elf.ST_BIND(l.syms[i].info) == elf.STB_LOCAL; local == (pass == 0) {
				newIndex[i] = uint32(len(order) + 1)
				order = append(order, i)
			}
		}
	}
	firstGlobal := uint32(1)
	for _, i := range order {
		if elf.ST_BIND(l.syms[i].info) == elf.STB_LOCAL {
			firstGlobal++
		}
	}

	// Sections with contents, in the order they were created.
	var secs []*linkSection
	for _, sec := range l.secs[1:] {
		if !sec.ephemeral {
			secs = append(secs, sec)
		}
	}
	slices.SortFunc(secs, func(a, b *linkSection) int { return a.elfIndex - b.elfIndex })
	elfIndex := make(map[*linkSection]uint32, len(secs))
	for i, sec := range secs {
		elfIndex[sec] = uint32(i + 3)
	}
	if n := len(secs) + 5; n >= int(elf.SHN_LORESERVE) {
		return nil, fmt.Errorf("link: %d sections are too many", n)
	}

	strtab := []byte{0}
	strOff := map[string]uint32{"": 0}
	str := func(s string) uint32 {
		if off, ok := strOff[s]; ok {
			return off
		}
		off := uint32(len(strtab))
		strtab = append(append(strtab, s...), 0)
		strOff[s] = off
		return off
	}

	out := []outSection{
		{},
		{name: ".strtab", typ: elf.SHT_STRTAB, flags: elf.SHF_STRINGS, align: 1},
		{name: ".symtab", typ: elf.SHT_SYMTAB, link: 1, info: firstGlobal, align: 8, entsize: elfSymbolSize},
	}
	for _, sec := range secs {
		o := outSection{name: sec.name, typ: sec.typ, flags: sec.flags, align: sec.align, entsize: sec.entsize, data: sec.data, size: sec.size}
		if sec.typ == elf.SHT_REL {
			o.link = 2
			o.info = elfIndex[l.secs[sec.target]]
			o.data = make([]byte, 0, len(sec.rels)*elfRelSize)
			for _, r := range sec.rels {
				o.data = app.AppendUint64(o.data, r.offset)
				o.data = app.AppendUint64(o.data, uint64(newIndex[r.symbol])<<32|uint64(r.typ))
			}
			o.size = uint64(len(o.data))
		}
		out = append(out, o)
	}
	if btfData != nil {
		out = append(out, outSection{name: ".BTF", typ: elf.SHT_PROGBITS, align: 8, data: btfData, size: uint64(len(btfData))})
	}
	if extData != nil {
		out = append(out, outSection{name: ".BTF.ext", typ: elf.SHT_PROGBITS, align: 8, data: extData, size: uint64(len(extData))})
	}

	symtab := make([]byte, elfSymbolSize, elfSymbolSize*len(l.syms))
	for _, i := range order {
		sym := &l.syms[i]
		shndx := sym.shndx
		if sym.sec != 0 {
			shndx = elf.SectionIndex(elfIndex[l.secs[sym.sec]])
			if l.secs[sym.sec].ephemeral {
				shndx = elf.SHN_UNDEF
			}
		}
		symtab = app.AppendUint32(symtab, str(sym.name))
		symtab = append(symtab, sym.info, sym.other)
		symtab = app.AppendUint16(symtab, uint16(shndx))
		symtab = app.AppendUint64(symtab, sym.value)
		symtab = app.AppendUint64(symtab, sym.size)
	}
	out[2].data, out[2].size = symtab, uint64(len(symtab))
	nameOff := make([]uint32, len(out))
	for i := 1; i < len(out); i++ {
		nameOff[i] = str(out[i].name)
	}
	out[1].data, out[1].size = strtab, uint64(len(strtab))

	// Contents after the header, then the section headers.
	buf := make([]byte, elfHeaderSize)
	offsets := make([]uint64, len(out))
	for i := 1; i < len(out); i++ {
		align := max(out[i].align, 1)
		for uint64(len(buf))%align != 0 {
			buf = append(buf, 0)
		}
		offsets[i] = uint64(len(buf))
		if out[i].typ != elf.SHT_NOBITS {
			buf = append(buf, out[i].data...)
		}
		if len(buf) > maxObjectSize {
			return nil, errObjectTooLarge
		}
	}
	for len(buf)%8 != 0 {
		buf = append(buf, 0)
	}
	shoff := uint64(len(buf))
	for i, o := range out {
		buf = app.AppendUint32(buf, nameOff[i])
		buf = app.AppendUint32(buf, uint32(o.typ))
		buf = app.AppendUint64(buf, uint64(o.flags))
		buf = app.AppendUint64(buf, 0) // address
		buf = app.AppendUint64(buf, offsets[i])
		buf = app.AppendUint64(buf, o.size)
		buf = app.AppendUint32(buf, o.link)
		buf = app.AppendUint32(buf, o.info)
		buf = app.AppendUint64(buf, o.align)
		buf = app.AppendUint64(buf, o.entsize)
	}

	h := buf[:elfHeaderSize]
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	if bo == binary.BigEndian {
		h[elf.EI_DATA] = byte(elf.ELFDATA2MSB)
	}
	h[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	bo.PutUint16(h[16:], uint16(elf.ET_REL))
	bo.PutUint16(h[18:], uint16(elf.EM_BPF))
	bo.PutUint32(h[20:], uint32(elf.EV_CURRENT))
	bo.PutUint64(h[40:], shoff)
	bo.PutUint16(h[52:], elfHeaderSize)
	bo.PutUint16(h[58:], elfSectionSize)
	bo.PutUint16(h[60:], uint16(len(out)))
	bo.PutUint16(h[62:], 1)
	return buf, nil
}

// linkLayout is the btf.SectionLayout of an input: section sizes and the
// offsets of the symbols of allocated sections, indexed once.
type linkLayout struct {
	f       *elfFile
	sizes   map[string]uint64
	symbols map[[2]string]uint64
}

func newLinkLayout(f *elfFile) *linkLayout {
	l := &linkLayout{f: f, sizes: make(map[string]uint64), symbols: make(map[[2]string]uint64)}
	for i := range f.sections {
		sec := &f.sections[i]
		if sec.flags&elf.SHF_ALLOC == 0 {
			continue
		}
		if _, ok := l.sizes[sec.name]; !ok {
			l.sizes[sec.name] = sec.size
		}
	}
	for i := range f.symbols {
		sym := &f.symbols[i]
		sec := f.section(sym.section)
		if sym.section == elf.SHN_UNDEF || sec == nil || sec.flags&elf.SHF_ALLOC == 0 || !layoutSymbol(sym) {
			continue
		}
		key := [2]string{sec.name, sym.name}
		if _, ok := l.symbols[key]; !ok {
			l.symbols[key] = sym.value
		}
	}
	return l
}

func (l *linkLayout) ByteOrder() binary.ByteOrder { return l.f.order }

func (l *linkLayout) SectionSize(name string) (uint64, bool) {
	size, ok := l.sizes[name]
	return size, ok
}

func (l *linkLayout) SymbolOffset(section, symbol string) (uint64, bool) {
	off, ok := l.symbols[[2]string{section, symbol}]
	return off, ok
}
