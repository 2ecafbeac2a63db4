package ebpf

import (
	"fmt"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
)

// The linker turns a ProgramSpec's instructions into what BPF_PROG_LOAD
// takes. The parts that need no kernel live here, so that the ELF reader
// may use them too: appending subprograms and checking references. The
// parts that ask the kernel (CO-RE, kfuncs, ksyms, attach targets) are in
// the linker_*.go files.

// linkSubprograms returns insns followed by every function they call or
// take the address of, directly or through other functions, each once and
// in the order first referenced. funcs returns a function's instructions
// (starting with its symbol) by name, or nil if it has none. insns is
// not modified; the result shares no backing array with it when anything
// was appended.
//
// A name funcs doesn't know is left unresolved: loading reports it, naming
// the instruction and symbol.
func linkSubprograms(insns asm.Instructions, funcs func(name string) asm.Instructions) asm.Instructions {
	defined := make(map[string]bool)
	for i := range insns {
		if sym := insns[i].Symbol(); sym != "" {
			defined[sym] = true
		}
	}

	out := insns
	// Work through the appended functions breadth first: each may
	// reference more.
	for next := 0; next < len(out); {
		refs := out[next:].FunctionReferences()
		next = len(out)
		for _, ref := range refs {
			if defined[ref] {
				continue
			}
			fn := funcs(ref)
			if len(fn) == 0 {
				continue
			}
			if len(out) == len(insns) {
				// First append: don't write into the caller's array.
				out = append(make(asm.Instructions, 0, len(insns)+len(fn)), insns...)
			}
			for i := range fn {
				if sym := fn[i].Symbol(); sym != "" {
					defined[sym] = true
				}
			}
			out = append(out, fn...)
		}
	}
	return out
}

// linkProgram returns a copy of spec's instructions, linked and checked so
// that asm.Instructions.Marshal can encode them for the kernel. Types the
// program's BTF needs beyond its functions are added to types; kt finds
// kernel types and keeps the module BTF the program refers to open.
func linkProgram(spec *ProgramSpec, opts *ProgramOptions, kt *kernelTypes, types *btf.Builder) (asm.Instructions, error) {
	insns := make(asm.Instructions, len(spec.Instructions))
	copy(insns, spec.Instructions)

	if err := applyCORE(insns, spec.ByteOrder, types, kt.cache, opts); err != nil {
		return nil, err
	}
	if err := resolveKfuncs(insns, kt); err != nil {
		return nil, err
	}
	if err := resolveKsyms(insns, kt); err != nil {
		return nil, err
	}
	if err := checkReferences(insns); err != nil {
		return nil, err
	}
	return insns, nil
}

// checkReferences fails for a map load that names a map nothing provided,
// and for calls of functions that are not in insns; the kernel would
// reject both with less helpful errors.
func checkReferences(insns asm.Instructions) error {
	var symbols map[string]bool
	iter := insns.Iterate()
	for iter.Next() {
		ins := iter.Ins
		ref := ins.Reference()
		if ref == "" {
			continue
		}
		switch {
		case ins.IsLoadFromMap():
			if ins.Map() == nil {
				return fmt.Errorf("instruction %d: reference to unknown map %q", iter.Offset, ref)
			}
		case ins.IsFunctionReference() && ins.Constant == -1:
			if symbols == nil {
				symbols = symbolSet(insns)
			}
			if !symbols[ref] {
				return fmt.Errorf("instruction %d: call to unknown function %q", iter.Offset, ref)
			}
		}
	}
	return nil
}

func symbolSet(insns asm.Instructions) map[string]bool {
	set := make(map[string]bool)
	for i := range insns {
		if sym := insns[i].Symbol(); sym != "" {
			set[sym] = true
		}
	}
	return set
}

// instructionAtOffset finds the instruction at the raw offset off (in
// 8-byte slots, as the kernel counts) and its index in insns.
func instructionAtOffset(insns asm.Instructions, off int) (*asm.Instruction, int, bool) {
	iter := insns.Iterate()
	for iter.Next() {
		switch {
		case int(iter.Offset) == off:
			return iter.Ins, iter.Index, true
		case int(iter.Offset) > off:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// sourceLine returns "file:line" of the source line the instruction at
// index i belongs to: the nearest line info at or before it within its
// function, or "" without line info.
func sourceLine(insns asm.Instructions, i int) string {
	for ; i >= 0; i-- {
		if src := insns[i].Source(); src != nil {
			if l, ok := src.(interface {
				FileName() string
				LineNumber() uint32
			}); ok {
				return fmt.Sprintf("%s:%d", l.FileName(), l.LineNumber())
			}
			return ""
		}
		if insns[i].Symbol() != "" {
			// The start of the function: line info never crosses it.
			return ""
		}
	}
	return ""
}
