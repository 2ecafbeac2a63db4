package ebpf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/btf"
)

// Broken objects are made here by patching the test objects, byte by
// byte, rather than committed.

func readTestObject(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name + ".elf")
	qt.Assert(t, qt.IsNil(err))
	return data
}

// patcher edits a copy of an object at the places its headers name.
type patcher struct {
	t    *testing.T
	data []byte
	f    *elfFile
}

func newPatcher(t *testing.T, name string) *patcher {
	data := readTestObject(t, name)
	f, err := parseELF(bytes.Clone(data))
	qt.Assert(t, qt.IsNil(err))
	return &patcher{t, data, f}
}

func (p *patcher) bo() binary.ByteOrder { return p.f.order }

func (p *patcher) sectionIndex(name string) int {
	for i := range p.f.sections {
		if p.f.sections[i].name == name {
			return i
		}
	}
	p.t.Fatalf("no section %q", name)
	return -1
}

// sectionHeader returns the bytes of a section's header.
func (p *patcher) sectionHeader(name string) []byte {
	shoff := p.bo().Uint64(p.data[40:])
	return p.data[shoff+uint64(p.sectionIndex(name))*elfSectionSize:]
}

// symbol returns the bytes of a symbol's entry.
func (p *patcher) symbol(name string) []byte {
	symtab := p.sectionHeader(".symtab")
	off := p.bo().Uint64(symtab[24:])
	for i := range p.f.symbols {
		if p.f.symbols[i].name == name {
			return p.data[off+uint64(i)*elfSymbolSize:]
		}
	}
	p.t.Fatalf("no symbol %q", name)
	return nil
}

// renameSection gives a section a new name of the same length.
func (p *patcher) renameSection(old, new string) {
	if len(old) != len(new) {
		p.t.Fatalf("%q and %q differ in length", old, new)
	}
	shstrndx := p.bo().Uint16(p.data[62:])
	strtab := p.bo().Uint64(p.data[p.bo().Uint64(p.data[40:])+uint64(shstrndx)*elfSectionSize+24:])
	nameOff := p.bo().Uint32(p.sectionHeader(old))
	copy(p.data[strtab+uint64(nameOff):], new)
}

func (p *patcher) load() error {
	_, err := LoadCollectionSpecFromReader(bytes.NewReader(p.data))
	return err
}

func TestCorruptObjects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		object string
		patch  func(p *patcher)
		err    string
	}{
		{"empty", "globals-el", func(p *patcher) { p.data = nil }, `not an ELF object: 0 bytes are too short for a header`},
		{"magic", "globals-el", func(p *patcher) { p.data[1] = 'X' }, `not an ELF object: bad magic`},
		{"32-bit", "globals-el", func(p *patcher) { p.data[elf.EI_CLASS] = byte(elf.ELFCLASS32) }, `ELF class ELFCLASS32: BPF objects are 64-bit`},
		{"machine", "globals-el", func(p *patcher) { p.bo().PutUint16(p.data[18:], uint16(elf.EM_X86_64)) }, `ELF machine EM_X86_64 is not BPF`},
		{"executable", "globals-el", func(p *patcher) { p.bo().PutUint16(p.data[16:], uint16(elf.ET_EXEC)) }, `ELF type ET_EXEC: .*`},
		{"section headers beyond the end", "globals-el", func(p *patcher) { p.bo().PutUint64(p.data[40:], 1<<40) }, `section headers at 1099511627776 are beyond the end of the object`},
		{"too many sections", "globals-el", func(p *patcher) { p.bo().PutUint16(p.data[60:], 0xfff0) }, `65520 section headers at \d+ are beyond the end of the object`},
		{"section name", "globals-el", func(p *patcher) { p.bo().PutUint32(p.sectionHeader("tc"), 1<<30) }, `section 3: name offset 1073741824 is out of bounds`},
		{"section beyond the end", "globals-el", func(p *patcher) { p.bo().PutUint64(p.sectionHeader("tc")[32:], 1<<50) },
			`section "tc": 1125899906842624 bytes at \d+ are beyond the end of the object`},
		{"huge .bss", "globals-el", func(p *patcher) { p.bo().PutUint64(p.sectionHeader(".bss")[32:], 1<<40) },
			`section ".bss": 1099511627776 bytes are more than a map value can hold`},
		{"large .bss", "globals-el", func(p *patcher) { p.bo().PutUint64(p.sectionHeader(".bss")[32:], 1<<31) },
			`section ".bss": 2147483648 bytes of zeros exceed the limit of \d+`},
		{"symbol entry size", "globals-el", func(p *patcher) { p.bo().PutUint64(p.sectionHeader(".symtab")[56:], 16) },
			`section ".symtab": symbol size 16, want 24`},
		{"variable beyond its section", "globals-el", func(p *patcher) { p.bo().PutUint64(p.symbol("data_u32")[16:], 1<<60) },
			`section ".data": variable "data_u32": 1152921504606846976 bytes at offset 8 are beyond the end of the section`},
		{"program beyond its section", "globals-el", func(p *patcher) { p.bo().PutUint64(p.symbol("read_globals")[16:], 1<<20) },
			`section "tc": program "read_globals": 1048576 bytes at offset 0 are beyond the end of the section`},
		{"program misaligned", "globals-el", func(p *patcher) { p.bo().PutUint64(p.symbol("read_globals")[8:], 4) },
			`section "tc": program "read_globals": offset 4 or size 336 is not a multiple of 8`},
		{"relocation symbol", "globals-el", func(p *patcher) {
			off := p.bo().Uint64(p.sectionHeader(".reltc")[24:])
			p.bo().PutUint64(p.data[off+8:], 0xffff<<32|1)
		}, `section ".reltc": relocation 0 refers to symbol 65535, which does not exist`},
		{"relocation between instructions", "globals-el", func(p *patcher) {
			off := p.bo().Uint64(p.sectionHeader(".reltc")[24:])
			p.bo().PutUint64(p.data[off:], 4)
		}, `section "tc": program "read_globals": relocation at offset 4 does not point at an instruction`},
		{"map definition beyond its section", "maps_btf-el", func(p *patcher) { p.bo().PutUint64(p.symbol("hash")[16:], 1<<62) },
			`section ".maps": map "hash": 4611686018427387904 bytes at offset \d+ are beyond the end of the section .*`},
		{"legacy map too short", "maps_legacy-el", func(p *patcher) { p.bo().PutUint64(p.symbol("legacy_hash")[16:], 12) },
			`section "maps": map "legacy_hash": definition of 12 bytes is shorter than struct bpf_map_def \(20\)`},
		{"BTF", "globals-el", func(p *patcher) { p.bo().PutUint64(p.sectionHeader(".BTF")[32:], 3) }, `load BTF: .*`},
		{"license", "globals-el", func(p *patcher) { p.bo().PutUint64(p.sectionHeader("license")[24:], 1<<62) },
			`section "license": 4 bytes at 4611686018427387904 are beyond the end of the object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPatcher(t, tc.object)
			tc.patch(p)
			qt.Assert(t, qt.ErrorMatches(p.load(), tc.err))
		})
	}
}

// TestWithoutBTF reads objects whose BTF is hidden: data and legacy maps
// need none, BTF maps do.
func TestWithoutBTF(t *testing.T) {
	p := newPatcher(t, "globals-el")
	p.renameSection(".BTF", ".XTF")
	p.renameSection(".BTF.ext", ".XTF.ext")
	spec, err := LoadCollectionSpecFromReader(bytes.NewReader(p.data))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsNil(spec.Types))
	qt.Assert(t, qt.HasLen(spec.Maps, 5))
	qt.Assert(t, qt.HasLen(spec.Variables, 11))
	for _, m := range spec.Maps {
		qt.Assert(t, qt.IsNil(m.Key))
		qt.Assert(t, qt.IsNil(m.Value))
	}
	for _, v := range spec.Variables {
		qt.Assert(t, qt.IsNil(v.Type))
	}
	prog := spec.Programs["read_globals"]
	qt.Assert(t, qt.IsNil(prog.Instructions[0].Source()))
	qt.Assert(t, qt.IsNil(btf.FuncMetadata(&prog.Instructions[0])))

	p = newPatcher(t, "maps_btf-el")
	p.renameSection(".BTF", ".XTF")
	qt.Assert(t, qt.ErrorMatches(p.load(), `section ".maps": BTF map definitions need BTF, but the object has none`))
}

// TestCorruptObjectsTruncated reads every prefix of a few objects: no
// panic, and no allocation out of proportion to the input.
func TestCorruptObjectsTruncated(t *testing.T) {
	for _, name := range []string{"globals-el", "subprogs-eb", "map_values-el", "struct_ops-el", "kconfig-eb", "maps_legacy-el"} {
		data := readTestObject(t, name)
		step := 1
		if testing.Short() {
			step = 13
		}
		for n := 0; n < len(data); n += step {
			alloc := allocatedBytes(func() {
				_, err := LoadCollectionSpecFromReader(bytes.NewReader(data[:n]))
				if err == nil {
					// Only trailing bytes nothing refers to may go.
					qt.Assert(t, qt.IsTrue(n > len(data)/2), qt.Commentf("%s: %d bytes", name, n))
				}
			})
			qt.Assert(t, qt.IsTrue(alloc < 1<<20), qt.Commentf("%s: %d bytes allocated for %d bytes", name, alloc, n))
		}
	}
}

// TestCorruptObjectsBitFlips flips each bit of the headers of an object.
func TestCorruptObjectsBitFlips(t *testing.T) {
	data := readTestObject(t, "map_values-el")
	f, err := parseELF(bytes.Clone(data))
	qt.Assert(t, qt.IsNil(err))
	shoff := binary.LittleEndian.Uint64(data[40:])
	var regions [][2]uint64
	regions = append(regions, [2]uint64{0, elfHeaderSize}, [2]uint64{shoff, shoff + uint64(len(f.sections))*elfSectionSize})
	for _, sec := range f.sections {
		if sec.typ == elf.SHT_SYMTAB || sec.typ == elf.SHT_REL {
			regions = append(regions, [2]uint64{sec.offset, sec.offset + sec.size})
		}
	}
	buf := make([]byte, len(data))
	for _, r := range regions {
		for off := r[0]; off < r[1]; off++ {
			for bit := 0; bit < 8; bit++ {
				copy(buf, data)
				buf[off] ^= 1 << bit
				alloc := allocatedBytes(func() {
					_, _ = LoadCollectionSpecFromReader(bytes.NewReader(buf))
				})
				qt.Assert(t, qt.IsTrue(alloc < 1<<20+maxZeroFill), qt.Commentf("bit %d of byte %d: %d bytes allocated", bit, off, alloc))
			}
		}
	}
}

// allocatedBytes returns how many bytes fn allocates.
func allocatedBytes(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestLoadCollectionSpecFromReaders(t *testing.T) {
	data := readTestObject(t, "subprogs-el")
	want, err := LoadCollectionSpecFromReader(bytes.NewReader(data))
	qt.Assert(t, qt.IsNil(err))

	// A reader that doesn't say its size, and returns little at a time.
	got, err := LoadCollectionSpecFromReader(onlyReaderAt{data})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.CmpEquals(got, want, specOptions...))

	// A section reader knows its size.
	got, err = LoadCollectionSpecFromReader(io.NewSectionReader(bytes.NewReader(data), 0, int64(len(data))))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.CmpEquals(got, want, specOptions...))

	// An os.File.
	f, err := os.Open("testdata/subprogs-el.elf")
	qt.Assert(t, qt.IsNil(err))
	defer f.Close()
	got, err = LoadCollectionSpecFromReader(f)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.CmpEquals(got, want, specOptions...))

	// Read errors are returned as they are.
	boom := errors.New("boom")
	_, err = LoadCollectionSpecFromReader(errReaderAt{boom})
	qt.Assert(t, qt.ErrorIs(err, boom))
}

// onlyReaderAt reads data at most a few bytes at a time, and hides its
// size.
type onlyReaderAt struct{ data []byte }

func (o onlyReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(o.data)) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 7)], o.data[off:])
	return n, nil
}

type errReaderAt struct{ err error }

func (e errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, e.err }
