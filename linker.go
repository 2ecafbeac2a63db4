package ebpf

import (
	"fmt"
	"path"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
)

// The linker turns a ProgramSpec's instructions into what BPF_PROG_LOAD
// takes. The ELF reader has already appended the subprograms a program
// calls (elf_programs.go); the linker works on a copy of the instructions
// and resolves what needs the running kernel: CO-RE relocations
// (linker_core.go), kfuncs (linker_kfunc.go), kernel symbols
// (linker_ksym.go), the BTF of kernel modules (linker_modules.go), with
// what /proc/kallsyms says read once per load (linker_kallsyms.go); then
// it checks that every reference is satisfied.

// linkProgram returns a copy of spec's instructions, linked and checked so
// that asm.Instructions.Marshal can encode them for the kernel. Types the
// program's BTF needs beyond its functions are added to types; kt finds
// kernel types and keeps the module BTF the program refers to open.
func linkProgram(spec *ProgramSpec, opts *ProgramOptions, kt *kernelTypes, types *btf.Builder) (asm.Instructions, error) {
	insns := make(asm.Instructions, len(spec.Instructions))
	copy(insns, spec.Instructions)

	if err := applyCORE(insns, spec.ByteOrder, types, kt, opts); err != nil {
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
				// Clean "./prog.c" (clang's -fdebug-compilation-dir=.) to
				// "prog.c", as the kernel's log prints it.
				return fmt.Sprintf("%s:%d", path.Clean(l.FileName()), l.LineNumber())
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
