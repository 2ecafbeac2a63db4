package link

import (
	"cmp"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/tracefs"
)

// ErrNoSymbol is returned (wrapped) when a symbol is not in the ELF file's
// symbol tables.
var ErrNoSymbol = errors.New("not found")

// Executable is an ELF file (program or shared library) to place uprobes
// in. Its symbol tables are read once, on the first lookup.
type Executable struct {
	path string
	// segments are the file's PT_LOAD program headers, to turn a
	// symbol's virtual address into the file offset uprobes take.
	segments []elf.ProgHeader
	sections []elf.SectionHeader

	// From the ELF header, for USDT notes and their arguments.
	machine   elf.Machine
	class     elf.Class
	byteOrder binary.ByteOrder
	typ       elf.Type

	once    sync.Once
	symErr  error
	symbols map[string]fileSymbol
	byAddr  []namedSymbol // sorted by offset, for Symbol

	usdtOnce   sync.Once
	usdtErr    error
	usdtProbes []USDTProbe
}

// fileSymbol is a symbol located in the file: its file offset and size.
type fileSymbol struct {
	offset, size uint64
	undefined    bool // imported from another object
}

type namedSymbol struct {
	name string
	fileSymbol
}

// OpenExecutable opens the ELF file at path for uprobes: a program or a
// shared library (to probe a library function, open the library, e.g.
// /lib/x86_64-linux-gnu/libc.so.6, and limit the probes to a process with
// UprobeOptions.PID if needed). It reads the ELF and program headers; the
// symbol tables are read on first use.
func OpenExecutable(path string) (*Executable, error) {
	if path == "" {
		return nil, errors.New("open executable: empty path")
	}
	f, err := openELF(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ex := &Executable{path: path, machine: f.Machine, class: f.Class, byteOrder: f.ByteOrder, typ: f.Type}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			ex.segments = append(ex.segments, p.ProgHeader)
		}
	}
	for _, s := range f.Sections {
		ex.sections = append(ex.sections, s.SectionHeader)
	}
	return ex, nil
}

// openELF opens path as an ELF file; debug/elf's panics on malformed input
// become errors naming the file.
func openELF(path string) (f *elf.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("open executable %s: malformed ELF: %v", path, r)
		}
	}()
	f, err = elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open executable %s: %w", path, err)
	}
	return f, nil
}

// loadSymbols reads .symtab and .dynsym once.
func (ex *Executable) loadSymbols() error {
	ex.once.Do(func() { ex.symErr = ex.readSymbols() })
	return ex.symErr
}

func (ex *Executable) readSymbols() (err error) {
	f, err := openELF(ex.path)
	if err != nil {
		return err
	}
	defer f.Close()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("executable %s: malformed symbol table: %v", ex.path, r)
		}
	}()
	syms, serr := f.Symbols()
	dyn, derr := f.DynamicSymbols()
	if errors.Is(serr, elf.ErrNoSymbols) && errors.Is(derr, elf.ErrNoSymbols) {
		return fmt.Errorf("executable %s: no symbol tables (stripped?): %w", ex.path, ErrNoSymbol)
	}
	for _, e := range []error{serr, derr} {
		if e != nil && !errors.Is(e, elf.ErrNoSymbols) {
			return fmt.Errorf("executable %s: read symbols: %w", ex.path, e)
		}
	}
	ex.symbols = make(map[string]fileSymbol, len(syms)+len(dyn))
	// .symtab first: it has every symbol; .dynsym adds what a stripped
	// file still exports.
	for _, s := range slices.Concat(syms, dyn) {
		if s.Name == "" {
			continue
		}
		switch elf.ST_TYPE(s.Info) {
		case elf.STT_FUNC, elf.STT_OBJECT, elf.STT_GNU_IFUNC, elf.STT_NOTYPE:
		default:
			continue
		}
		sym := fileSymbol{size: s.Size}
		if s.Section == elf.SHN_UNDEF || s.Value == 0 {
			sym.undefined = true
		} else if off, ok := ex.fileOffset(s.Value); ok {
			sym.offset = off
		} else {
			continue
		}
		if old, seen := ex.symbols[s.Name]; seen && !old.undefined {
			continue
		}
		ex.symbols[s.Name] = sym
	}
	for name, sym := range ex.symbols {
		if !sym.undefined {
			ex.byAddr = append(ex.byAddr, namedSymbol{name, sym})
		}
	}
	slices.SortFunc(ex.byAddr, func(a, b namedSymbol) int {
		if a.offset != b.offset {
			return cmp.Compare(a.offset, b.offset)
		}
		if a.size != b.size {
			return cmp.Compare(a.size, b.size)
		}
		return cmp.Compare(a.name, b.name)
	})
	return nil
}

// fileOffset turns a virtual address into a file offset through the
// PT_LOAD segment (or, for files without one, the section) holding it.
func (ex *Executable) fileOffset(vaddr uint64) (uint64, bool) {
	for _, p := range ex.segments {
		if vaddr >= p.Vaddr && vaddr-p.Vaddr < p.Filesz {
			return vaddr - p.Vaddr + p.Off, true
		}
	}
	for _, s := range ex.sections {
		if s.Type != elf.SHT_NOBITS && s.Addr != 0 && vaddr >= s.Addr && vaddr-s.Addr < s.Size {
			return vaddr - s.Addr + s.Offset, true
		}
	}
	return 0, false
}

// address returns the file offset of symbol plus offset, or address plus
// offset when address is given.
func (ex *Executable) address(symbol string, address, offset uint64) (uint64, error) {
	if address != 0 {
		return address + offset, nil
	}
	if symbol == "" {
		return 0, errors.New("no symbol and no address")
	}
	if err := ex.loadSymbols(); err != nil {
		return 0, err
	}
	sym, ok := ex.symbols[symbol]
	if !ok {
		return 0, fmt.Errorf("symbol %s in %s: %w", symbol, ex.path, ErrNoSymbol)
	}
	if sym.undefined {
		return 0, fmt.Errorf("symbol %s is imported by %s, not defined there: open the shared library that defines it, or give UprobeOptions.Address: %w",
			symbol, ex.path, ErrNoSymbol)
	}
	return sym.offset + offset, nil
}

// SymbolOffset is a place in a binary: a symbol and an offset into it.
type SymbolOffset struct {
	Symbol string
	Offset uint64
}

// Symbol returns the symbol whose extent contains the file offset address,
// and how far into it address is. Of overlapping symbols the innermost
// (latest starting, then smallest) wins; an address in no symbol gives an
// error wrapping ErrNoSymbol.
func (ex *Executable) Symbol(address uint64) (SymbolOffset, error) {
	if err := ex.loadSymbols(); err != nil {
		return SymbolOffset{}, err
	}
	// The last symbol starting at or before address that contains it.
	i, _ := slices.BinarySearchFunc(ex.byAddr, address+1, func(s namedSymbol, t uint64) int {
		return cmp.Compare(s.offset, t)
	})
	for j := i - 1; j >= 0; j-- {
		s := ex.byAddr[j]
		if address-s.offset < s.size || (s.size == 0 && address == s.offset) {
			return SymbolOffset{Symbol: s.name, Offset: address - s.offset}, nil
		}
		if address-s.offset > 1<<24 {
			break // nothing this far back spans address in practice
		}
	}
	return SymbolOffset{}, fmt.Errorf("file offset %#x in %s: %w", address, ex.path, ErrNoSymbol)
}

// UprobeOptions are the optional arguments of Uprobe and Uretprobe.
type UprobeOptions struct {
	// Address is the file offset of the probed function; it replaces the
	// symbol lookup (for functions without a symbol, or imported ones).
	Address uint64
	// Offset is added to the symbol's (or Address's) offset, to probe an
	// instruction inside the function.
	Offset uint64
	// PID limits the probe to one process; 0 probes every process that
	// maps the file.
	PID int
	// RefCtrOffset is the file offset of a reference counter (USDT
	// semaphore) the kernel increments in every probed process while the
	// probe exists (Linux 4.20).
	RefCtrOffset uint64
	// Cookie is returned by bpf_get_attach_cookie() in the program
	// (Linux 5.15).
	Cookie uint64
	// TraceFSPrefix starts the tracefs group name if the probe has to be
	// created in tracefs: "<prefix>_<pid>_<random>". Empty means
	// "bpfkit".
	TraceFSPrefix string
}

// Uprobe attaches prog (type Kprobe) to the entry of symbol in the file:
// the program runs whenever a process executes it. For example
//
//	ex, _ := link.OpenExecutable("/bin/bash")
//	l, err := ex.Uprobe("readline", prog, nil)
//
// The probe is a perf event of the uprobe PMU (Linux 4.17), else a uprobe
// event in tracefs that Close removes; the program attaches with a perf
// event link (5.15), else with ioctls. The first call reads the symbol
// tables; then a perf_event_open(2) and a bpf(2) call.
func (ex *Executable) Uprobe(symbol string, prog *ebpf.Program, opts *UprobeOptions) (Link, error) {
	return ex.uprobe(symbol, prog, opts, false)
}

// Uretprobe attaches prog (type Kprobe) to the returns of symbol, as
// Uprobe does to its entry. Return probes replace the return address on
// the stack while the function runs: don't put them on functions of
// runtimes that inspect their stacks (Go).
func (ex *Executable) Uretprobe(symbol string, prog *ebpf.Program, opts *UprobeOptions) (Link, error) {
	return ex.uprobe(symbol, prog, opts, true)
}

func (ex *Executable) uprobe(symbol string, prog *ebpf.Program, opts *UprobeOptions, ret bool) (Link, error) {
	if opts == nil {
		opts = &UprobeOptions{}
	}
	what := "uprobe"
	if ret {
		what = "uretprobe"
	}
	what = fmt.Sprintf("%s %s:%s", what, ex.path, symbol)
	if prog == nil {
		return nil, fmt.Errorf("%s: program is nil", what)
	}
	if prog.Type() != ebpf.Kprobe {
		return nil, fmt.Errorf("%s: program %s has type %s, want Kprobe", what, prog, prog.Type())
	}
	if opts.PID < 0 {
		return nil, fmt.Errorf("%s: invalid PID %d", what, opts.PID)
	}
	offset, err := ex.address(symbol, opts.Address, opts.Offset)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	pid := opts.PID
	if pid == 0 {
		pid = -1
	}
	pe, err := openProbe(probeArgs{
		typ:          tracefs.Uprobe,
		symbol:       symbol,
		path:         ex.path,
		offset:       offset,
		refCtrOffset: opts.RefCtrOffset,
		ret:          ret,
		pid:          pid,
		prefix:       opts.TraceFSPrefix,
	})
	if err != nil {
		return nil, err
	}
	l, err := attachPerfEvent(pe, prog, opts.Cookie)
	if err != nil {
		pe.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return l, nil
}
