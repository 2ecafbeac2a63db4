package ebpf

import (
	"debug/elf"
	"fmt"
	"strings"

	"github.com/bpfkit/ebpf/btf"
	"golang.org/x/sys/unix"
)

// Global variables live in data sections (.data, .rodata, .bss and their
// ".name" variants). Each section becomes an array map of one element
// holding the whole section, named after it; each global variable becomes a
// VariableSpec. .rodata maps are read-only for programs (BPF_F_RDONLY_PROG)
// and frozen after loading.

// maxZeroFill bounds the size of SHT_NOBITS data sections (.bss). Their
// bytes are zeros that the object does not contain, so their size is the
// one number in an object that could make us allocate far more than the
// object's size.
const maxZeroFill = 64 << 20

func (r *elfReader) loadDataSections() error {
	for i := range r.sections {
		if r.kinds[i] != dataSection {
			continue
		}
		syms := r.sectionSymbols(i)
		// A section without symbols that no program refers to is left over
		// from compilation (such as .rodata.str1.1); it would make a map
		// that nothing uses.
		if r.refs[i] == 0 && len(syms) == 0 {
			continue
		}
		sec := &r.sections[i]
		if err := r.loadDataSection(i, sec, syms); err != nil {
			return fmt.Errorf("section %q: %w", sec.name, err)
		}
	}
	return nil
}

func (r *elfReader) loadDataSection(index int, sec *elfSection, syms []uint32) error {
	if sec.size > 1<<32-1 {
		return fmt.Errorf("%d bytes are more than a map value can hold", sec.size)
	}
	var data []byte
	if sec.typ == elf.SHT_NOBITS {
		if sec.size > maxZeroFill {
			return fmt.Errorf("%d bytes of zeros exceed the limit of %d", sec.size, maxZeroFill)
		}
		data = make([]byte, sec.size)
	} else {
		raw, err := r.sectionData(sec)
		if err != nil {
			return err
		}
		data = append([]byte(nil), raw...)
	}

	spec := &MapSpec{
		Name:       sanitizeMapName(sec.name),
		Type:       Array,
		KeySize:    4,
		ValueSize:  uint32(sec.size),
		MaxEntries: 1,
		Contents:   []MapKV{{Key: uint32(0), Value: data}},
	}
	if isConstantDataSection(sec.name) {
		spec.Flags = unix.BPF_F_RDONLY_PROG
	}

	// The values of the section's variables share one allocation; each
	// is a slice of it with its capacity capped.
	var (
		values  []byte
		prev    *elfSymbol
		prevEnd uint64
	)
	for _, si := range syms {
		sym := &r.symbols[si]
		if !isVariableSymbol(sym) {
			continue
		}
		if sym.value > uint64(len(data)) || sym.size > uint64(len(data))-sym.value {
			return fmt.Errorf("variable %q: %d bytes at offset %d are beyond the end of the section", sym.name, sym.size, sym.value)
		}
		// Variables don't overlap, which bounds what we copy by the size
		// of the section.
		if sym.size > 0 {
			if sym.value < prevEnd {
				return fmt.Errorf("variable %q at offset %d overlaps %q", sym.name, sym.value, prev.name)
			}
			prev, prevEnd = sym, sym.value+sym.size
		}
		if r.vars[sym.name] != nil {
			return fmt.Errorf("variable %q: defined twice", sym.name)
		}
		if values == nil {
			values = make([]byte, 0, min(r.variableBytes(syms, uint64(len(data))), len(data)))
		}
		start := len(values)
		values = append(values, data[sym.value:sym.value+sym.size]...)
		r.vars[sym.name] = &VariableSpec{
			Name:        sym.name,
			SectionName: sec.name,
			Offset:      uint32(sym.value),
			Value:       values[start:len(values):len(values)],
		}
	}

	ds, err := r.datasec(sec.name, index)
	if err != nil {
		return err
	}
	if ds != nil {
		spec.Key = &btf.Void{}
		spec.Value = ds
		for _, vsi := range ds.Vars {
			v, ok := vsi.Type.(*btf.Var)
			if !ok {
				return fmt.Errorf("BTF datasec holds %s, not a variable", vsi.Type)
			}
			vs := r.vars[v.Name]
			if vs == nil || vs.SectionName != sec.name {
				// Static and hidden variables have BTF but no VariableSpec.
				continue
			}
			if vsi.Offset != vs.Offset || vsi.Size != uint32(len(vs.Value)) {
				return fmt.Errorf("variable %q: BTF places %d bytes at offset %d, the symbol %d bytes at offset %d",
					v.Name, vsi.Size, vsi.Offset, len(vs.Value), vs.Offset)
			}
			vs.Type = v
		}
	}

	r.maps[sec.name] = spec
	return nil
}

// isVariableSymbol reports whether a symbol of a data section is a global
// variable that users may see and set: global or weak, not hidden, and not
// one of the compiler's own symbols (whose names start with '.').
func isVariableSymbol(sym *elfSymbol) bool {
	switch sym.visibility() {
	case elf.STV_HIDDEN, elf.STV_INTERNAL:
		return false
	}
	switch sym.binding() {
	case elf.STB_GLOBAL, elf.STB_WEAK:
	default:
		return false
	}
	return !strings.HasPrefix(sym.name, ".")
}

// variableBytes sums the sizes of the variables among syms that fit a
// section of size bytes.
func (r *elfReader) variableBytes(syms []uint32, size uint64) int {
	n := 0
	for _, si := range syms {
		sym := &r.symbols[si]
		if isVariableSymbol(sym) && sym.value <= size && sym.size <= size-sym.value {
			n += int(sym.size)
		}
	}
	return n
}
