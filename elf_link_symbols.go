package ebpf

import (
	"debug/elf"
	"fmt"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
)

// appendSymbols adds the symbols of obj to the output, resolving global
// ones against those of earlier inputs.
func (l *objectLinker) appendSymbols(obj *linkObject) error {
	for i := 1; i < len(obj.f.symbols); i++ {
		if err := l.appendSymbol(obj, i); err != nil {
			return err
		}
	}
	return nil
}

func (l *objectLinker) appendSymbol(obj *linkObject, index int) error {
	sym := &obj.f.symbols[index]
	extern := sym.section == elf.SHN_UNDEF
	var in *linkInputSection
	dst := 0
	switch {
	case extern:
		if obj.btf == nil {
			return fmt.Errorf("extern %q: externs without BTF are not supported", sym.name)
		}
	case sym.section < elf.SHN_LORESERVE:
		in = &obj.secs[sym.section]
		if in.skipped {
			return nil
		}
		dst = in.dst
		// One section symbol per output section.
		if sym.kind() == elf.STT_SECTION && l.secs[dst].secSym != 0 {
			obj.symMap[index] = l.secs[dst].secSym
			return nil
		}
	}
	if sym.binding() == elf.STB_LOCAL {
		l.newSymbol(obj, index, in, dst)
		return nil
	}

	info, err := obj.globalBTF(sym.name)
	if err != nil {
		return err
	}
	if extern && info.datasec != "" && info.datasec != ".extern" {
		i := obj.section(info.datasec)
		if i < 0 {
			return fmt.Errorf("extern %q: no section %q for its DATASEC", sym.name, info.datasec)
		}
		in = &obj.secs[i]
		dst = in.dst
	}

	g := l.globals[sym.name]
	if g == nil {
		n := l.newSymbol(obj, index, in, dst)
		if extern {
			// Externs stay undefined, even in an ephemeral section.
			l.syms[n].sec, l.syms[n].shndx = 0, elf.SHN_UNDEF
		}
		l.globals[sym.name] = &linkGlobal{
			name: sym.name, sym: n, sec: dst, typ: info.typ, obj: obj,
			extern: extern, weak: sym.binding() == elf.STB_WEAK, varIndex: -1,
		}
		return nil
	}

	obj.symMap[index] = g.sym
	if !extern && !g.extern && !g.weak && sym.binding() != elf.STB_WEAK {
		return fmt.Errorf("symbol %q: conflicting non-weak definitions", sym.name)
	}
	if err := l.globalsMatch(g, obj, info.typ); err != nil {
		return err
	}
	out := &l.syms[g.sym]
	if sym.binding() == elf.STB_GLOBAL {
		// A strong extern makes the symbol strong too.
		out.info = elf.ST_INFO(elf.STB_GLOBAL, elf.ST_TYPE(out.info))
		g.weak = false
	}
	// Hidden wins over default, even from an extern.
	if sym.visibility() > elf.ST_VISIBILITY(out.other) {
		out.other = out.other&^3 | byte(sym.visibility())
	}
	if extern || (!g.extern && sym.binding() == elf.STB_WEAK) {
		return nil
	}
	// A strong definition (or the first definition of an extern) takes
	// the symbol over.
	out.info = elf.ST_INFO(elf.ST_BIND(out.info), sym.kind())
	out.sec, out.shndx = dst, 0
	out.value = in.dstOff + sym.value
	out.size = sym.size
	if g.varIndex >= 0 && g.sec == dst && out.value <= 1<<32-1 {
		// libbpf keeps the DATASEC entry of the weak definition that
		// lost, so BTF and the symbol disagree on where the variable
		// is; the entry moves with the symbol here.
		l.secs[dst].vars[g.varIndex].offset = uint32(out.value)
	}
	g.sec, g.extern = dst, false
	g.typ, g.obj = info.typ, obj
	return nil
}

// newSymbol appends symbol index of obj to the output symbol table.
func (l *objectLinker) newSymbol(obj *linkObject, index int, in *linkInputSection, dst int) uint32 {
	sym := &obj.f.symbols[index]
	out := linkSymbol{name: sym.name, info: sym.info, other: sym.other, sec: dst, value: sym.value, size: sym.size}
	if dst == 0 {
		out.shndx = sym.section
	}
	if in != nil {
		out.value += in.dstOff
	}
	n := uint32(len(l.syms))
	if sym.kind() == elf.STT_SECTION && dst != 0 {
		l.secs[dst].secSym = n
		out.value = 0
	}
	l.syms = append(l.syms, out)
	obj.symMap[index] = n
	return n
}

// appendRelocations adds the relocations of obj, pointing them at the
// output's symbols and offsets.
func (l *objectLinker) appendRelocations(obj *linkObject) error {
	f := obj.f
	for i := 1; i < len(f.sections); i++ {
		in := &obj.secs[i]
		if in.skipped || in.elf.typ != elf.SHT_REL {
			continue
		}
		target := &obj.secs[in.elf.info]
		if target.skipped {
			continue
		}
		dst := l.findSection(in.name)
		if dst < 0 {
			dst = l.newSection(in)
		} else if err := compatible(l.secs[dst], in); err != nil {
			return err
		}
		sec := l.secs[dst]
		sec.target = target.dst
		// Keep the size of the output in step, as libbpf does.
		if err := l.extend(sec, in, f); err != nil {
			return err
		}
		rels, err := f.relocations(in.elf)
		if err != nil {
			return err
		}
		code := l.secs[target.dst]
		for _, r := range rels {
			src := &f.symbols[r.symbol]
			out := obj.symMap[r.symbol]
			if out == 0 {
				return fmt.Errorf("section %q: relocation at %d refers to symbol %q, which was dropped with its section", in.name, r.offset, src.name)
			}
			r.offset += target.dstOff
			r.symbol = out
			if src.kind() == elf.STT_SECTION {
				if target.elf.flags&elf.SHF_EXECINSTR == 0 {
					return fmt.Errorf("section %q: relocation at %d against a section symbol outside code is not supported", in.name, r.offset)
				}
				if err := l.rebaseImmediate(code, r.offset, obj.secs[src.section].dstOff); err != nil {
					return fmt.Errorf("section %q: %w", in.name, err)
				}
			}
			sec.rels = append(sec.rels, r)
		}
	}
	return nil
}

// rebaseImmediate adds the offset of a section's part in the output to
// the immediate of the instruction at off in code, which refers to it
// through the section symbol: in instructions for calls, in bytes for
// everything else.
func (l *objectLinker) rebaseImmediate(code *linkSection, off, sectionOff uint64) error {
	if off+asm.InstructionSize > uint64(len(code.data)) {
		return fmt.Errorf("relocation at %d is beyond the end of section %q", off, code.name)
	}
	ins := code.data[off:]
	delta := int64(sectionOff)
	const call = 0x85 // BPF_JMP | BPF_CALL
	if ins[0] == call {
		delta /= asm.InstructionSize
	}
	imm := int64(int32(l.order.Uint32(ins[4:]))) + delta
	if imm != int64(int32(imm)) {
		return fmt.Errorf("relocation at %d: immediate %d overflows", off, imm)
	}
	l.order.PutUint32(ins[4:], uint32(int32(imm)))
	return nil
}

// btfGlobal is what an input's BTF says about a global symbol: its Var or
// Func and the DATASEC listing it ("" if none).
type btfGlobal struct {
	typ       btf.Type
	datasec   string
	ambiguous btf.Type
}

// globalBTF finds the BTF of the global or extern symbol name, as libbpf
// does: a non-static Var or Func of that name, preferably one a DATASEC
// lists.
func (obj *linkObject) globalBTF(name string) (btfGlobal, error) {
	if obj.btf == nil {
		return btfGlobal{}, fmt.Errorf("global %q: the object has no BTF", name)
	}
	if obj.btfNames == nil {
		if err := obj.indexGlobalBTF(); err != nil {
			return btfGlobal{}, err
		}
	}
	g, ok := obj.btfNames[name]
	if !ok {
		return btfGlobal{}, fmt.Errorf("global %q: no BTF for it", name)
	}
	if g.ambiguous != nil {
		return btfGlobal{}, fmt.Errorf("global %q: BTF is ambiguous: both %s and %s match", name, g.typ, g.ambiguous)
	}
	return g, nil
}

func nonStatic(t btf.Type) bool {
	switch v := t.(type) {
	case *btf.Var:
		return v.Linkage != btf.StaticVar
	case *btf.Func:
		return v.Linkage != btf.StaticFunc
	}
	return false
}

func (obj *linkObject) indexGlobalBTF() error {
	obj.btfNames = make(map[string]btfGlobal)
	free := make(map[string]btf.Type)
	var secs []*btf.Datasec
	for t, err := range obj.btf.All() {
		if err != nil {
			return fmt.Errorf("BTF: %w", err)
		}
		if nonStatic(t) {
			free[t.TypeName()] = t
		}
		if ds, ok := t.(*btf.Datasec); ok {
			secs = append(secs, ds)
		}
	}
	for _, ds := range secs {
		for _, v := range ds.Vars {
			if !nonStatic(v.Type) {
				continue
			}
			name := v.Type.TypeName()
			if _, ok := obj.btfNames[name]; ok {
				continue
			}
			g := btfGlobal{typ: v.Type, datasec: ds.Name}
			if f, ok := free[name]; ok && f != v.Type {
				g.ambiguous = f
			}
			obj.btfNames[name] = g
		}
	}
	for name, t := range free {
		if _, ok := obj.btfNames[name]; !ok {
			obj.btfNames[name] = btfGlobal{typ: t}
		}
	}
	return nil
}
