package asm

import (
	"fmt"
	"strconv"
	"strings"
)

// Format writes a one-line disassembly of ins for the verbs %v and %s: the
// operation (OpCode.String, or a name such as LoadMapPtr for pseudo loads),
// then the fields it uses as "name: value" pairs, then the referenced symbol
// in angle brackets. Examples:
//
//	MovImm dst: r0 imm: 0
//	LdXMemW dst: r2 src: r1 off: 4
//	JEqImm dst: r0 off: 3 imm: 0 <exit>
//	LoadMapPtr dst: r1 fd: 3 <events>
//	Call FnMapLookupElem
//
// Fields that an operation ignores are printed when they are not zero, so
// that the text never hides what the bytes say.
func (ins Instruction) Format(f fmt.State, c rune) {
	if c != 'v' && c != 's' {
		fmt.Fprintf(f, "{UNRECOGNIZED: %c}", c)
		return
	}
	var buf [128]byte
	f.Write(ins.appendText(buf[:0]))
}

// String returns the disassembly of ins, see Format. An addition to
// cilium/ebpf's API, which formats through fmt.
func (ins Instruction) String() string {
	var buf [128]byte
	return string(ins.appendText(buf[:0]))
}

// text builds one line of disassembly.
type text []byte

func (t text) op(s string) text { return append(t, s...) }

func (t text) reg(name string, r Register) text {
	t = append(t, ' ')
	t = append(t, name...)
	t = append(t, ": "...)
	return append(t, r.String()...)
}

func (t text) num(name string, v int64) text {
	t = append(t, ' ')
	t = append(t, name...)
	t = append(t, ": "...)
	return strconv.AppendInt(t, v, 10)
}

func (t text) str(name, v string) text {
	t = append(t, ' ')
	t = append(t, name...)
	t = append(t, ": "...)
	return append(t, v...)
}

// pseudoNames names ldimm64 sources other than the map fd loads.
var pseudoNames = map[Register]string{
	PseudoBTFID:       "btf_id",
	PseudoFunc:        "func",
	PseudoMapIdx:      "map_idx",
	PseudoMapIdxValue: "map_idx_value",
}

func (ins *Instruction) appendText(b []byte) []byte {
	t := text(b)
	op := ins.OpCode
	switch {
	case op == InvalidOpCode:
		return append(t, "INVALID"...)
	case ins.IsLoadFromMap():
		t = ins.appendMapLoad(t)
	case !op.wellFormed() || !op.known():
		t = t.op(op.String()).reg("dst", ins.Dst).reg("src", ins.Src).num("off", int64(ins.Offset)).num("imm", ins.Constant)
	case op.Class().isLoadOrStore():
		t = ins.appendLoadStore(t)
	case op.Class().IsALU():
		t = ins.appendALU(t)
	default:
		t = ins.appendJump(t)
	}
	if ref := ins.Reference(); ref != "" {
		t = append(t, " <"...)
		t = append(t, ref...)
		t = append(t, '>')
	}
	return t
}

func (ins *Instruction) appendMapLoad(t text) text {
	m := ins.Map()
	if ins.Src == PseudoMapFD {
		t = t.op("LoadMapPtr").reg("dst", ins.Dst)
	} else {
		t = t.op("LoadMapValue").reg("dst", ins.Dst)
	}
	if m != nil {
		t = t.str("map", fmt.Sprint(m))
	} else {
		t = t.num("fd", int64(ins.mapFd()))
	}
	if ins.Src == PseudoMapValue {
		t = t.num("off", int64(ins.mapOffset()))
	} else if off := ins.mapOffset(); off != 0 {
		t = t.num("hi", int64(off))
	}
	if ins.Offset != 0 {
		t = t.num("insn_off", int64(ins.Offset))
	}
	return t
}

func (ins *Instruction) appendLoadStore(t text) text {
	op := ins.OpCode
	t = t.op(op.String())
	switch cls, mode := op.Class(), op.Mode(); {
	case mode == ImmMode && cls == LdClass:
		t = t.reg("dst", ins.Dst)
		if ins.Src != R0 {
			if name, ok := pseudoNames[ins.Src]; ok {
				t = t.str("src", name)
			} else {
				t = t.reg("src", ins.Src)
			}
		}
		if ins.Offset != 0 {
			t = t.num("off", int64(ins.Offset))
		}
		return t.num("imm", ins.Constant)
	case mode == AbsMode || mode == IndMode:
		if ins.Dst != R0 {
			t = t.reg("dst", ins.Dst)
		}
		if mode == IndMode || ins.Src != R0 {
			t = t.reg("src", ins.Src)
		}
		if ins.Offset != 0 {
			t = t.num("off", int64(ins.Offset))
		}
		return t.num("imm", ins.Constant)
	case cls == StClass:
		t = t.reg("dst", ins.Dst)
		if ins.Src != R0 {
			t = t.reg("src", ins.Src)
		}
		return t.num("off", int64(ins.Offset)).num("imm", ins.Constant)
	default: // LdX, StX, atomics
		t = t.reg("dst", ins.Dst).reg("src", ins.Src).num("off", int64(ins.Offset))
		if ins.Constant != 0 {
			t = t.num("imm", ins.Constant)
		}
		return t
	}
}

func (ins *Instruction) appendALU(t text) text {
	op := ins.OpCode
	alu := op.ALUOp()
	if alu == Swap {
		t = t.op(op.String())
		t = strconv.AppendInt(t, ins.Constant, 10)
		t = t.reg("dst", ins.Dst)
		if ins.Src != R0 {
			t = t.reg("src", ins.Src)
		}
		if ins.Offset != 0 {
			t = t.num("off", int64(ins.Offset))
		}
		return t
	}
	if alu == Mov && op.Class() == ALU64Class && op.Source() == RegSource && ins.Offset == _BPF_ADDR_SPACE_CAST {
		// dst = addr_space_cast(src, dst_as, src_as), Linux 6.9.
		return t.op("AddrSpaceCast").reg("dst", ins.Dst).reg("src", ins.Src).
			num("dst_as", int64(uint32(ins.Constant)>>16)).num("src_as", int64(uint16(ins.Constant)))
	}
	t = t.op(op.String()).reg("dst", ins.Dst)
	if op.Source() == RegSource {
		t = t.reg("src", ins.Src)
		if ins.Offset != 0 {
			t = t.num("off", int64(ins.Offset))
		}
		if ins.Constant != 0 {
			t = t.num("imm", ins.Constant)
		}
		return t
	}
	if ins.Src != R0 {
		t = t.reg("src", ins.Src)
	}
	if ins.Offset != 0 {
		t = t.num("off", int64(ins.Offset))
	}
	return t.num("imm", ins.Constant)
}

func (ins *Instruction) appendJump(t text) text {
	op := ins.OpCode
	jop := op.JumpOp()
	// extra prints the fields an operation ignores when they are set.
	extra := func(t text, dst, src, off, imm bool) text {
		if dst && ins.Dst != R0 {
			t = t.reg("dst", ins.Dst)
		}
		if src && ins.Src != R0 {
			t = t.reg("src", ins.Src)
		}
		if off && ins.Offset != 0 {
			t = t.num("off", int64(ins.Offset))
		}
		if imm && ins.Constant != 0 {
			t = t.num("imm", ins.Constant)
		}
		return t
	}
	switch jop {
	case Exit:
		return extra(t.op(op.String()), true, true, true, true)
	case Call:
		t = t.op(op.String())
		switch {
		case op.Source() == RegSource:
			return extra(t.reg("dst", ins.Dst), false, true, true, true)
		case ins.Src == PseudoCall:
			return extra(t.num("pc", ins.Constant), true, false, true, false)
		case ins.Src == PseudoKfuncCall:
			return extra(t.num("kfunc", ins.Constant), true, false, true, false)
		case ins.Src == R0 && ins.Dst == R0:
			t = append(t, ' ')
			t = append(t, BuiltinFunc(ins.Constant).String()...)
			return extra(t, false, false, true, false)
		}
		return extra(t.num("imm", ins.Constant), true, true, true, false)
	case Ja:
		t = t.op(op.String())
		if op.Class() == Jump32Class {
			return extra(t.num("imm", ins.Constant), true, true, true, false)
		}
		if op.Source() == RegSource {
			return extra(t.reg("dst", ins.Dst), false, true, true, true)
		}
		return extra(t.num("off", int64(ins.Offset)), true, true, false, true)
	case JCOND:
		if ins.Src == PseudoMayGoto && op.Class() == JumpClass && op.Source() == ImmSource {
			return extra(t.op("MayGoto").num("off", int64(ins.Offset)), true, false, false, true)
		}
		return t.op(op.String()).reg("dst", ins.Dst).reg("src", ins.Src).num("off", int64(ins.Offset)).num("imm", ins.Constant)
	}
	t = t.op(op.String()).reg("dst", ins.Dst).num("off", int64(ins.Offset))
	if op.Source() == ImmSource {
		return extra(t.num("imm", ins.Constant), false, true, false, false)
	}
	return extra(t.reg("src", ins.Src), false, false, false, true)
}

// String returns the disassembly of insns, see Format.
func (insns Instructions) String() string {
	return fmt.Sprint(insns)
}

// Format writes a disassembly of insns for %v and %s, one instruction per
// line prefixed with its raw offset, symbols as "name:" lines and source
// annotations as "; ..." lines above the instructions.
//
// A precision sets the indentation of instructions (default 1), a width
// that of symbols (default one less); the ' ' flag indents with spaces
// instead of tabs. For example "%2.3v".
func (insns Instructions) Format(f fmt.State, c rune) {
	if c != 's' && c != 'v' {
		fmt.Fprintf(f, "{UNKNOWN FORMAT '%c'}", c)
		return
	}
	pad, ok := f.Precision()
	if !ok {
		pad = 1
	}
	symPad, ok := f.Width()
	if !ok {
		symPad = pad - 1
	}
	symPad = max(symPad, 0)
	fill := "\t"
	if f.Flag(' ') {
		fill = " "
	}
	indent, symIndent := strings.Repeat(fill, pad), strings.Repeat(fill, symPad)

	// Digits of the largest possible raw offset.
	width := len(strconv.Itoa(max(2*len(insns)-1, 0)))

	var line []byte
	iter := insns.Iterate()
	for iter.Next() {
		ins := iter.Ins
		line = line[:0]
		if sym := ins.Symbol(); sym != "" {
			line = append(line, symIndent...)
			line = append(line, sym...)
			line = append(line, ":\n"...)
		}
		if src := ins.Source(); src != nil {
			if s := strings.TrimSpace(src.String()); s != "" {
				line = append(line, indent...)
				line = append(line, strings.Repeat(" ", width)...)
				line = append(line, "  ; "...)
				line = append(line, s...)
				line = append(line, '\n')
			}
		}
		line = append(line, indent...)
		off := strconv.FormatUint(uint64(iter.Offset), 10)
		line = append(line, strings.Repeat(" ", width-len(off))...)
		line = append(line, off...)
		line = append(line, ": "...)
		line = ins.appendText(line)
		line = append(line, '\n')
		f.Write(line)
	}
}
