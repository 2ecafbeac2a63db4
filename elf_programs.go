package ebpf

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
)

// Every function symbol of an executable section is a function; each
// function outside .text is a program, named after its symbol, whose type
// the section name gives (elf_sections.go).
//
// Relocations become references by name, resolved at load time: to a map
// (by map name, or data section name for global variables), to another
// function (bpf-to-bpf calls and callbacks), or to an extern (.kconfig,
// .ksyms). A program's Instructions hold its own instructions followed by
// those of every function it calls, directly or not, in breadth-first
// order of sorted names; the loader fixes up call offsets.

// elfFunction is a function of a program section.
type elfFunction struct {
	name    string
	section int
	insns   asm.Instructions
	// refs are the functions it calls or takes the address of, sorted.
	refs []string
}

func (r *elfReader) loadPrograms() error {
	n := 0
	for i := range r.sections {
		if r.kinds[i] == programSection {
			n += len(r.sectionSymbols(i))
		}
	}
	funcs := make([]elfFunction, 0, n)
	r.uniqueFunctionNames()
	var rd bytes.Reader
	for i := range r.sections {
		if r.kinds[i] != programSection {
			continue
		}
		sec := &r.sections[i]
		var err error
		funcs, err = r.loadFunctions(funcs, i, sec, &rd)
		if err != nil {
			return fmt.Errorf("section %q: %w", sec.name, err)
		}
	}

	index := make(map[string]int, len(funcs))
	nprogs := 0
	for i := range funcs {
		f := &funcs[i]
		if j, dup := index[f.name]; dup {
			return fmt.Errorf("function %q is defined in section %q and in section %q", f.name, r.sections[funcs[j].section].name, r.sections[f.section].name)
		}
		index[f.name] = i
		if r.sections[f.section].name != ".text" {
			nprogs++
		}
	}

	r.progs = make(map[string]*ProgramSpec, nprogs)
	l := funcLinker{funcs: funcs, index: index, seen: make([]int, len(funcs))}
	lastSection := -1
	var (
		progType   ProgramType
		attachType AttachType
		flags      uint32
		attachTo   string
	)
	for i := range funcs {
		f := &funcs[i]
		sec := &r.sections[f.section]
		if sec.name == ".text" {
			continue
		}
		if f.section != lastSection {
			progType, attachType, flags, attachTo = programTypeOfSection(sec.name)
			lastSection = f.section
		}
		r.progs[f.name] = &ProgramSpec{
			Name:          f.name,
			Type:          progType,
			AttachType:    attachType,
			AttachTo:      attachTo,
			SectionName:   sec.name,
			Instructions:  l.link(i),
			Flags:         flags,
			License:       r.license,
			KernelVersion: r.version,
			ByteOrder:     r.order,
		}
	}
	return nil
}

// loadFunctions decodes the functions of a program section, resolving
// their relocations, and appends them to funcs.
func (r *elfReader) loadFunctions(funcs []elfFunction, index int, sec *elfSection, rd *bytes.Reader) ([]elfFunction, error) {
	syms := r.sectionSymbols(index)
	if len(syms) == 0 {
		return nil, errors.New("no function symbols")
	}
	data, err := r.sectionData(sec)
	if err != nil {
		return nil, err
	}
	relocs := r.relocs[index]
	next := 0
	ext := r.extInfos(sec.name)
	mb := &r.meta
	var prev *elfSymbol
	for _, si := range syms {
		sym := &r.symbols[si]
		what := "program"
		if sec.name == ".text" {
			what = "function"
		}
		if sym.value%asm.InstructionSize != 0 || sym.size%asm.InstructionSize != 0 {
			return nil, fmt.Errorf("%s %q: offset %d or size %d is not a multiple of %d", what, sym.name, sym.value, sym.size, asm.InstructionSize)
		}
		if sym.value > uint64(len(data)) || sym.size > uint64(len(data))-sym.value {
			return nil, fmt.Errorf("%s %q: %d bytes at offset %d are beyond the end of the section", what, sym.name, sym.size, sym.value)
		}
		if sym.size == 0 {
			return nil, fmt.Errorf("%s %q: no instructions", what, sym.name)
		}
		if prev != nil && sym.value < prev.value+prev.size {
			return nil, fmt.Errorf("%s %q at offset %d overlaps %q", what, sym.name, sym.value, prev.name)
		}
		prev = sym
		// Code between functions belongs to no symbol: a static linker
		// leaves the body of a __weak definition that lost to a strong
		// one there, with its relocations. Nothing can call it.
		for next < len(relocs) && relocs[next].offset < sym.value {
			next++
		}

		rd.Reset(data[sym.value : sym.value+sym.size])
		insns, err := asm.AppendInstructions(nil, rd, r.order, "linux")
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", what, sym.name, err)
		}
		var (
			refs []string
			raw  asm.RawInstructionOffset
		)
		for j := range insns {
			ins := &insns[j]
			off := sym.value + raw.Bytes()
			// Everything the instruction is annotated with goes into one
			// metadata table.
			mb.Reset(ins.Metadata)
			if j == 0 {
				mb.SetSymbol(r.functionName(sym))
			}
			if next < len(relocs) && relocs[next].offset < off {
				return nil, fmt.Errorf("%s %q: relocation at offset %d does not point at an instruction", what, sym.name, relocs[next].offset)
			}
			if next < len(relocs) && relocs[next].offset == off {
				if err := r.relocate(ins, mb, relocs[next], index, off); err != nil {
					return nil, fmt.Errorf("%s %q: instruction %d: %w", what, sym.name, raw, err)
				}
				next++
			} else if ins.IsFunctionReference() && ins.Constant != -1 {
				if err := r.relocateRelative(ins, mb, index, off); err != nil {
					return nil, fmt.Errorf("%s %q: instruction %d: %w", what, sym.name, raw, err)
				}
			}
			ext.assign(mb, asm.RawInstructionOffset(off/asm.InstructionSize))
			ins.Metadata = mb.Build()
			if j == 0 {
				markHiddenStatic(ins, sym)
			}
			if ins.IsFunctionReference() && ins.Constant == -1 {
				if ref := ins.Reference(); ref != "" {
					refs = append(refs, ref)
				}
			}
			raw += ins.Width()
		}
		slices.Sort(refs)
		refs = slices.Compact(refs)
		funcs = append(funcs, elfFunction{name: r.functionName(sym), section: index, insns: insns, refs: refs})
	}
	// Relocations past the last function belong to unnamed code too.
	return funcs, nil
}

// markHiddenStatic gives a function of hidden (or internal) visibility
// static linkage in its BTF, as libbpf does: such a function is private to
// its object, so the verifier checks it in the context of each call, like a
// static one, instead of on its own from its prototype. libbpf's usdt.bpf.h
// relies on this: its bpf_usdt_arg writes through a pointer argument that
// a global function would have to check for NULL.
func markHiddenStatic(ins *asm.Instruction, sym *elfSymbol) {
	switch sym.visibility() {
	case elf.STV_HIDDEN, elf.STV_INTERNAL:
	default:
		return
	}
	fn := btf.FuncMetadata(ins)
	if fn == nil || fn.Linkage == btf.StaticFunc {
		return
	}
	static := *fn
	static.Linkage = btf.StaticFunc
	*ins = btf.WithFuncMetadata(*ins, &static)
}

// relocate applies the relocation of the instruction at off in a program
// section; what it annotates the instruction with goes to mb.
func (r *elfReader) relocate(ins *asm.Instruction, mb *asm.MetadataBuilder, rel elfReloc, section int, off uint64) error {
	sym := &r.symbols[rel.symbol]
	name := r.symbolName(sym)
	if sym.section == elf.SHN_UNDEF {
		return r.relocateExtern(ins, mb, sym)
	}
	target := r.section(sym.section)
	if target == nil {
		return fmt.Errorf("reference to %q in section %d, which does not exist", name, sym.section)
	}

	switch r.kinds[sym.section] {
	case legacyMapSection, btfMapSection:
		if !ins.OpCode.IsDWordLoad() {
			return fmt.Errorf("map %q is used by %v, which is not a 64-bit load", name, ins.OpCode)
		}
		if sym.kind() == elf.STT_SECTION {
			if m, ok := r.symbolAt(int(sym.section), uint64(ins.Constant)); ok {
				name = m.name
			}
			return fmt.Errorf("map %q is static: maps must be global", name)
		}
		switch sym.binding() {
		case elf.STB_GLOBAL:
		case elf.STB_WEAK:
			// libbpf's usdt.bpf.h declares its maps weak, so that every
			// object file of a statically linked program may include it;
			// a static linker keeps the binding of weak definitions.
		case elf.STB_LOCAL:
			return fmt.Errorf("map %q is static: maps must be global", name)
		default:
			return fmt.Errorf("map %q has %s binding, not global", name, sym.binding())
		}
		if k := sym.kind(); k != elf.STT_OBJECT && k != elf.STT_NOTYPE {
			return fmt.Errorf("map %q is a %s symbol, not an object", name, k)
		}
		if r.maps[name] == nil {
			return fmt.Errorf("reference to unknown map %q", name)
		}
		ins.Src = asm.PseudoMapFD
		mb.SetReference(name)
		return nil

	case dataSection:
		if !ins.OpCode.IsDWordLoad() {
			return fmt.Errorf("variable %q in section %q is used by %v, which is not a 64-bit load", name, target.name, ins.OpCode)
		}
		switch sym.kind() {
		case elf.STT_SECTION, elf.STT_OBJECT, elf.STT_NOTYPE:
		default:
			return fmt.Errorf("%q in section %q is a %s symbol, not an object", name, target.name, sym.kind())
		}
		// Static variables are addressed through the section symbol
		// with their offset as addend in the instruction; others through
		// their own symbol, possibly with an addend too.
		offset := sym.value + uint64(uint32(ins.Constant))
		if offset > target.size {
			return fmt.Errorf("offset %d of %q is beyond the end of section %q", offset, name, target.name)
		}
		if r.maps[target.name] == nil {
			return fmt.Errorf("section %q has no map", target.name)
		}
		ins.Src = asm.PseudoMapValue
		ins.Constant = int64(offset << 32)
		mb.SetReference(target.name)
		return nil

	case programSection:
		var targetOff uint64
		switch {
		case ins.OpCode.JumpOp() == asm.Call:
			if ins.Src != asm.PseudoCall {
				return fmt.Errorf("call of %q is not a bpf-to-bpf call", name)
			}
			// The immediate counts instructions from the next one.
			targetOff = sym.value + uint64((int64(int32(ins.Constant))+1)*asm.InstructionSize)
		case ins.OpCode.IsDWordLoad():
			// The immediate is a byte offset from the symbol.
			targetOff = sym.value + uint64(ins.Constant)
			ins.Src = asm.PseudoFunc
		default:
			return fmt.Errorf("reference to function %q by %v, which is neither a call nor a 64-bit load", name, ins.OpCode)
		}
		switch sym.kind() {
		case elf.STT_SECTION, elf.STT_FUNC, elf.STT_NOTYPE:
		default:
			return fmt.Errorf("reference to %q, a %s symbol, in a program section", name, sym.kind())
		}
		fn, ok := r.symbolAt(int(sym.section), targetOff)
		if !ok {
			return fmt.Errorf("no function at offset %d of section %q", targetOff, target.name)
		}
		ins.Constant = -1
		mb.SetReference(r.functionName(fn))
		return nil
	}

	return fmt.Errorf("reference to %q in section %q, which holds neither maps, variables nor functions: %w", name, target.name, ErrNotSupported)
}

// relocateRelative turns a call of, or a load of the address of, a function
// of the same section that has no relocation (older LLVM, inline assembly)
// into a reference by name.
func (r *elfReader) relocateRelative(ins *asm.Instruction, mb *asm.MetadataBuilder, section int, off uint64) error {
	target := int64(off) + (int64(int32(ins.Constant))+1)*asm.InstructionSize
	if target < 0 {
		return fmt.Errorf("call of offset %d, before the start of the section", target)
	}
	fn, ok := r.symbolAt(section, uint64(target))
	if !ok {
		return fmt.Errorf("call of offset %d, where no function starts", target)
	}
	ins.Constant = -1
	mb.SetReference(r.functionName(fn))
	return nil
}

// uniqueFunctionNames gives the static functions of .text whose name
// another function of the object has too a name of their own, "name#1",
// "name#2"... in the order of their offsets: a static linker puts the
// static functions of all its inputs into one .text, and references
// between functions are by name. '#' is in no C identifier, so the new
// names collide with nothing.
func (r *elfReader) uniqueFunctionNames() {
	count := make(map[string]int)
	for i := range r.sections {
		if r.kinds[i] != programSection {
			continue
		}
		for _, si := range r.sectionSymbols(i) {
			count[r.symbols[si].name]++
		}
	}
	next := make(map[string]int)
	for i := range r.sections {
		if r.kinds[i] != programSection || r.sections[i].name != ".text" {
			continue
		}
		for _, si := range r.sectionSymbols(i) {
			sym := &r.symbols[si]
			if count[sym.name] < 2 || sym.binding() != elf.STB_LOCAL {
				continue
			}
			if r.funcNames == nil {
				r.funcNames = make(map[*elfSymbol]string)
			}
			next[sym.name]++
			r.funcNames[sym] = sym.name + "#" + strconv.Itoa(next[sym.name])
		}
	}
}

// functionName is the name a function of a program section goes by.
func (r *elfReader) functionName(sym *elfSymbol) string {
	if name, ok := r.funcNames[sym]; ok {
		return name
	}
	return sym.name
}

// relocateExtern handles references to undefined symbols: .kconfig and
// .ksyms externs, calls of functions declared but not defined, and symbols
// that inline assembly refers to.
func (r *elfReader) relocateExtern(ins *asm.Instruction, mb *asm.MetadataBuilder, sym *elfSymbol) error {
	name := sym.name
	bind := sym.binding()
	if bind != elf.STB_GLOBAL && bind != elf.STB_WEAK {
		return fmt.Errorf("extern %q has %s binding", name, bind)
	}
	if sym.kind() != elf.STT_NOTYPE {
		return fmt.Errorf("extern %q is a %s symbol", name, sym.kind())
	}
	if err := r.loadExterns(); err != nil {
		return err
	}

	switch ks := r.ksym(name).(type) {
	case *btf.Func:
		switch {
		case ins.OpCode.JumpOp() == asm.Call:
			ins.Src = asm.PseudoKfuncCall
			ins.Constant = -1
		case ins.OpCode.IsDWordLoad():
			ins.Constant = 0
		default:
			return fmt.Errorf("kfunc %q is used by %v, which is neither a call nor a 64-bit load", name, ins.OpCode)
		}
		mb.Set(kfuncMetaKey{}, &kfuncMeta{Binding: bind, Func: ks})
		mb.SetReference(name)
		return nil
	case *btf.Var:
		if !ins.OpCode.IsDWordLoad() {
			return fmt.Errorf("kernel symbol %q is used by %v, which is not a 64-bit load", name, ins.OpCode)
		}
		mb.Set(ksymMetaKey{}, &ksymMeta{Binding: bind, Name: name, Type: ks.Type})
		mb.SetReference(name)
		return nil
	}

	if off, ok := r.kconfigOffset(name); ok {
		if !ins.OpCode.IsDWordLoad() {
			return fmt.Errorf("kconfig %q is used by %v, which is not a 64-bit load", name, ins.OpCode)
		}
		ins.Src = asm.PseudoMapValue
		mb.Set(kconfigMetaKey{}, &kconfigMeta{Map: r.kconfig, Offset: off, Binding: bind})
		return nil
	}

	// An extern variable outside .ksyms and .kconfig has nothing that could
	// define it. Without BTF for it, the symbol comes from inline assembly
	// or a function declaration: keep the reference for the user or the
	// loader to resolve.
	if r.btf != nil && ins.OpCode.IsDWordLoad() {
		var v *btf.Var
		if err := r.btf.TypeByName(name, &v); err == nil && v.Linkage == btf.ExternVar {
			return fmt.Errorf("extern variable %q is in neither .ksyms nor .kconfig: nothing can define it", name)
		}
	}
	mb.SetReference(name)
	return nil
}

// funcLinker appends the functions a program refers to after its own
// instructions.
type funcLinker struct {
	funcs []elfFunction
	index map[string]int
	// seen[i] == gen marks function i as part of the program being linked.
	seen  []int
	gen   int
	queue []int
}

func (l *funcLinker) link(prog int) asm.Instructions {
	f := &l.funcs[prog]
	if len(f.refs) == 0 {
		return f.insns
	}
	l.gen++
	l.seen[prog] = l.gen
	l.queue = l.queue[:0]
	size := len(f.insns)
	for i := 0; ; i++ {
		var refs []string
		if i == 0 {
			refs = f.refs
		} else if i <= len(l.queue) {
			refs = l.funcs[l.queue[i-1]].refs
		} else {
			break
		}
		for _, ref := range refs {
			j, ok := l.index[ref]
			if !ok || l.seen[j] == l.gen {
				// Not ours to link (an extern the loader may resolve),
				// or already linked.
				continue
			}
			l.seen[j] = l.gen
			l.queue = append(l.queue, j)
			size += len(l.funcs[j].insns)
		}
	}
	insns := make(asm.Instructions, 0, size)
	insns = append(insns, f.insns...)
	for _, j := range l.queue {
		insns = append(insns, l.funcs[j].insns...)
	}
	return insns
}
