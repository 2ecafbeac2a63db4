package link

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// USDT probes (user statically defined tracepoints, <sys/sdt.h>'s
// STAP_PROBE macros and DTRACE_PROBE) are nops in the code; each site is
// described by an ELF note in .note.stapsdt: owner "stapsdt", type 3, and
// a descriptor holding three addresses (the nop, the link-time address of
// the .stapsdt.base section, the semaphore or 0) of the ELF class's width,
// then provider, name and argument string, each NUL-terminated. The
// section is not loaded, so prelink does not rewrite it: the difference
// between .stapsdt.base's address and the one recorded in the note is the
// adjustment prelink made, which applies to the probe and its semaphore
// alike (sourceware.org/systemtap/wiki/UserSpaceProbeImplementation).

const (
	usdtNoteSection = ".note.stapsdt"
	usdtBaseSection = ".stapsdt.base"
	usdtNoteOwner   = "stapsdt"
	usdtNoteType    = 3
)

// USDTProbe is one site of a USDT probe in an executable or library. A
// probe (provider and name) may have several sites, for example when the
// compiler inlined the function holding it; each has its own argument
// locations.
type USDTProbe struct {
	Provider string
	Name     string
	// Address is the link-time virtual address of the site's
	// instruction, adjusted for prelink.
	Address uint64
	// Offset is the instruction's file offset: where the uprobe goes. It
	// is 0 for a site outside every executable segment (code the linker
	// discarded); attaching to it fails.
	Offset uint64
	// Semaphore is the virtual address of the probe's semaphore, a 16-bit
	// count of attached tracers that the program may test to skip
	// preparing arguments; 0 for none.
	Semaphore uint64
	// SemaphoreOffset is the semaphore's file offset, which the kernel's
	// uprobes take to maintain it (Linux 4.20).
	SemaphoreOffset uint64
	// Args is the argument string of the note, e.g. "-4@%edi 8@-24(%rbp)".
	Args string

	machine elf.Machine
	// err says why Offset or SemaphoreOffset could not be found.
	err error
}

func (p *USDTProbe) String() string {
	return fmt.Sprintf("%s:%s@%#x", p.Provider, p.Name, p.Address)
}

// Arguments parses Args for the executable's architecture (x86-64, arm64
// or s390x).
func (p *USDTProbe) Arguments() ([]USDTArg, error) {
	args, err := parseUSDTArgs(p.machine, p.Args)
	if err != nil {
		return nil, fmt.Errorf("USDT %s: %w", p, err)
	}
	out := make([]USDTArg, len(args))
	for i, a := range args {
		out[i] = a.USDTArg
	}
	return out, nil
}

// usdtNote is a note as written: addresses before any adjustment.
type usdtNote struct {
	provider, name, args string
	loc, base, sema      uint64
}

// parseUSDTNotes decodes the notes of a .note.stapsdt section. Notes of
// other owners or types are skipped; a note that does not fit, or whose
// strings are not terminated, is an error naming its offset. Nothing is
// allocated beyond the strings and the result.
func parseUSDTNotes(data []byte, class elf.Class, bo binary.ByteOrder) ([]usdtNote, error) {
	addrSize := 8
	if class == elf.ELFCLASS32 {
		addrSize = 4
	}
	var notes []usdtNote
	for off := 0; off < len(data); {
		if len(data)-off < 12 {
			return nil, fmt.Errorf("note at offset %d: %d bytes left, a note header needs 12", off, len(data)-off)
		}
		namesz := uint64(bo.Uint32(data[off:]))
		descsz := uint64(bo.Uint32(data[off+4:]))
		typ := bo.Uint32(data[off+8:])
		nameStart := uint64(off) + 12
		descStart := nameStart + align4(namesz)
		end := descStart + align4(descsz)
		if descStart+descsz > uint64(len(data)) {
			return nil, fmt.Errorf("note at offset %d: name of %d and descriptor of %d bytes go past the section's end (%d)", off, namesz, descsz, len(data))
		}
		name := data[nameStart : nameStart+namesz]
		desc := data[descStart : descStart+descsz]
		noteOff := off
		off = int(min(end, uint64(len(data))))
		if typ != usdtNoteType || string(bytes.TrimRight(name, "\x00")) != usdtNoteOwner {
			continue
		}
		n, err := parseUSDTDesc(desc, addrSize, bo)
		if err != nil {
			return nil, fmt.Errorf("note at offset %d: %w", noteOff, err)
		}
		notes = append(notes, n)
	}
	return notes, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

func parseUSDTDesc(desc []byte, addrSize int, bo binary.ByteOrder) (usdtNote, error) {
	var n usdtNote
	if len(desc) < 3*addrSize+3 {
		return n, fmt.Errorf("descriptor of %d bytes is too short for 3 addresses and 3 strings", len(desc))
	}
	addr := func(i int) uint64 {
		if addrSize == 4 {
			return uint64(bo.Uint32(desc[i*4:]))
		}
		return bo.Uint64(desc[i*8:])
	}
	n.loc, n.base, n.sema = addr(0), addr(1), addr(2)
	rest := desc[3*addrSize:]
	var strs [3]string
	for i := range strs {
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			return n, fmt.Errorf("string %d of the descriptor is not NUL-terminated", i)
		}
		strs[i], rest = string(rest[:end]), rest[end+1:]
	}
	n.provider, n.name, n.args = strs[0], strs[1], strs[2]
	if n.provider == "" || n.name == "" {
		return n, fmt.Errorf("probe at %#x has an empty provider or name", n.loc)
	}
	// Some tools write ":" for a probe without arguments.
	if n.args == ":" {
		n.args = ""
	}
	return n, nil
}

// USDTProbes lists the USDT probe sites of the executable, in the order of
// its notes; a file without a .note.stapsdt section has none. The first
// call reads the section (bounded by the file's size), later calls return
// the same list. It makes no system call beyond reading the file.
func (ex *Executable) USDTProbes() ([]USDTProbe, error) {
	ex.usdtOnce.Do(func() { ex.usdtProbes, ex.usdtErr = ex.readUSDTProbes() })
	return ex.usdtProbes, ex.usdtErr
}

func (ex *Executable) readUSDTProbes() ([]USDTProbe, error) {
	var notes, base *elf.SectionHeader
	for i := range ex.sections {
		switch ex.sections[i].Name {
		case usdtNoteSection:
			notes = &ex.sections[i]
		case usdtBaseSection:
			base = &ex.sections[i]
		}
	}
	if notes == nil {
		return nil, nil
	}
	if notes.Type != elf.SHT_NOTE {
		return nil, fmt.Errorf("executable %s: section %s has type %s, not SHT_NOTE", ex.path, usdtNoteSection, notes.Type)
	}
	data, err := readSection(ex.path, notes)
	if err != nil {
		return nil, fmt.Errorf("executable %s: %w", ex.path, err)
	}
	raw, err := parseUSDTNotes(data, ex.class, ex.byteOrder)
	if err != nil {
		return nil, fmt.Errorf("executable %s: section %s: %w", ex.path, usdtNoteSection, err)
	}
	probes := make([]USDTProbe, len(raw))
	for i, n := range raw {
		probes[i] = ex.resolveUSDT(n, base)
	}
	return probes, nil
}

// readSection reads a section's bytes, refusing sizes the file can't hold.
func readSection(path string, sh *elf.SectionHeader) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := uint64(fi.Size())
	if sh.Offset > size || sh.Size > size-sh.Offset {
		return nil, fmt.Errorf("section %s: %d bytes at offset %d are beyond the end of the file (%d bytes)", sh.Name, sh.Size, sh.Offset, size)
	}
	data := make([]byte, sh.Size)
	if _, err := f.ReadAt(data, int64(sh.Offset)); err != nil && !(errors.Is(err, io.EOF) && sh.Size == 0) {
		return nil, fmt.Errorf("section %s: %w", sh.Name, err)
	}
	return data, nil
}

// resolveUSDT applies the prelink adjustment and finds the file offsets
// of the site and its semaphore.
func (ex *Executable) resolveUSDT(n usdtNote, base *elf.SectionHeader) USDTProbe {
	p := USDTProbe{
		Provider:  n.provider,
		Name:      n.name,
		Address:   n.loc,
		Semaphore: n.sema,
		Args:      n.args,
		machine:   ex.machine,
	}
	if base != nil && n.base != 0 {
		adj := base.Addr - n.base // modular arithmetic: prelink may move down
		p.Address += adj
		if p.Semaphore != 0 {
			p.Semaphore += adj
		}
	}
	if seg := ex.loadSegment(p.Address); seg == nil || seg.Flags&elf.PF_X == 0 {
		p.err = fmt.Errorf("address %#x is in no executable segment", p.Address)
	} else {
		p.Offset = p.Address - seg.Vaddr + seg.Off
	}
	if p.Semaphore != 0 {
		if seg := ex.loadSegment(p.Semaphore); seg == nil || seg.Flags&elf.PF_X != 0 {
			p.err = errors.Join(p.err, fmt.Errorf("semaphore address %#x is in no data segment", p.Semaphore))
		} else {
			p.SemaphoreOffset = p.Semaphore - seg.Vaddr + seg.Off
		}
	}
	return p
}

// loadSegment returns the PT_LOAD segment whose memory holds vaddr.
func (ex *Executable) loadSegment(vaddr uint64) *elf.ProgHeader {
	for i := range ex.segments {
		s := &ex.segments[i]
		if vaddr >= s.Vaddr && vaddr-s.Vaddr < s.Memsz {
			return s
		}
	}
	return nil
}
