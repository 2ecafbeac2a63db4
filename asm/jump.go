package asm

import "strconv"

// JumpOp is a control flow operation: the opcode bits 0xf0 of JumpClass and
// Jump32Class.
type JumpOp uint8

// Jump operations. The conditional ones compare Dst with Src or Constant and
// jump Offset+1 raw instructions forward (or back) when the condition holds.
const (
	// InvalidJumpOp is returned by OpCode.JumpOp for non-jumps.
	InvalidJumpOp JumpOp = 0xff
	// Ja jumps unconditionally: by Offset in JumpClass, by Constant in
	// Jump32Class (gotol, kernel 6.6).
	Ja = JumpOp(_BPF_JA)
	// JEq jumps if dst == src.
	JEq = JumpOp(_BPF_JEQ)
	// JGT jumps if dst > src, unsigned.
	JGT = JumpOp(_BPF_JGT)
	// JGE jumps if dst >= src, unsigned.
	JGE = JumpOp(_BPF_JGE)
	// JSet jumps if dst & src != 0.
	JSet = JumpOp(_BPF_JSET)
	// JNE jumps if dst != src.
	JNE = JumpOp(_BPF_JNE)
	// JSGT jumps if dst > src, signed.
	JSGT = JumpOp(_BPF_JSGT)
	// JSGE jumps if dst >= src, signed.
	JSGE = JumpOp(_BPF_JSGE)
	// Call calls a helper (Constant is a BuiltinFunc), another BPF function
	// (Src PseudoCall) or a kfunc (Src PseudoKfuncCall).
	Call = JumpOp(_BPF_CALL)
	// Exit returns R0 from the function or program.
	Exit = JumpOp(_BPF_EXIT)
	// JLT jumps if dst < src, unsigned. Requires kernel 4.14.
	JLT = JumpOp(_BPF_JLT)
	// JLE jumps if dst <= src, unsigned. Requires kernel 4.14.
	JLE = JumpOp(_BPF_JLE)
	// JSLT jumps if dst < src, signed. Requires kernel 4.14.
	JSLT = JumpOp(_BPF_JSLT)
	// JSLE jumps if dst <= src, signed. Requires kernel 4.14.
	JSLE = JumpOp(_BPF_JSLE)
	// JCOND is a pseudo jump whose condition the kernel decides; with Src
	// PseudoMayGoto it is may_goto (kernel 6.9).
	JCOND = JumpOp(_BPF_JCOND)
)

var jumpNames = [16]string{
	"Ja", "JEq", "JGT", "JGE", "JSet", "JNE", "JSGT", "JSGE",
	"Call", "Exit", "JLT", "JLE", "JSLT", "JSLE", "JCOND", "",
}

// String returns the constant's name, e.g. "JEq".
func (op JumpOp) String() string {
	if op == InvalidJumpOp {
		return "InvalidJumpOp"
	}
	if op&0x0f == 0 && jumpNames[op>>4] != "" {
		return jumpNames[op>>4]
	}
	return "JumpOp(" + strconv.Itoa(int(op)) + ")"
}

// Return emits exit: the program or function returns the value in R0.
func Return() Instruction {
	return Instruction{OpCode: OpCode(JumpClass).SetJumpOp(Exit)}
}

// Op returns the 64-bit opcode of op with the given source.
func (op JumpOp) Op(source Source) OpCode {
	return OpCode(JumpClass).SetJumpOp(op).SetSource(source)
}

// compare returns the opcode of a conditional jump, refusing the
// operations that compare nothing.
func (op JumpOp) compare(class Class, source Source) OpCode {
	switch op {
	case Call, Exit, Ja, JCOND:
		return InvalidOpCode
	}
	return OpCode(class).SetJumpOp(op).SetSource(source)
}

// Imm emits a jump to label if the 64-bit dst compares true with value
// (sign extended). Marshal resolves the label to an offset.
func (op JumpOp) Imm(dst Register, value int32, label string) Instruction {
	return Instruction{
		OpCode:   op.compare(JumpClass, ImmSource),
		Dst:      dst,
		Offset:   -1,
		Constant: int64(value),
	}.WithReference(label)
}

// Imm32 emits a jump to label if the low 32 bits of dst compare true with
// value. Requires kernel 5.1.
func (op JumpOp) Imm32(dst Register, value int32, label string) Instruction {
	return Instruction{
		OpCode:   op.compare(Jump32Class, ImmSource),
		Dst:      dst,
		Offset:   -1,
		Constant: int64(value),
	}.WithReference(label)
}

// Reg emits a jump to label if the 64-bit dst compares true with src.
func (op JumpOp) Reg(dst, src Register, label string) Instruction {
	return Instruction{
		OpCode: op.compare(JumpClass, RegSource),
		Dst:    dst,
		Src:    src,
		Offset: -1,
	}.WithReference(label)
}

// Reg32 emits a jump to label if the low 32 bits of dst compare true with
// the low 32 bits of src. Requires kernel 5.1.
func (op JumpOp) Reg32(dst, src Register, label string) Instruction {
	return Instruction{
		OpCode: op.compare(Jump32Class, RegSource),
		Dst:    dst,
		Src:    src,
		Offset: -1,
	}.WithReference(label)
}

// Label emits a jump to label: for Call a bpf-to-bpf call of the function
// whose first instruction carries the symbol label, for Ja an unconditional
// jump. JCOND gives may_goto, a jump the kernel takes once a loop has used
// up its budget (kernel 6.9). Other operations need operands: use Imm or
// Reg.
func (op JumpOp) Label(label string) Instruction {
	switch op {
	case Call:
		return Instruction{
			OpCode:   OpCode(JumpClass).SetJumpOp(Call),
			Src:      PseudoCall,
			Constant: -1,
		}.WithReference(label)
	case JCOND:
		return Instruction{
			OpCode: OpCode(JumpClass).SetJumpOp(JCOND),
			Src:    PseudoMayGoto,
			Offset: -1,
		}.WithReference(label)
	}
	return Instruction{
		OpCode: OpCode(JumpClass).SetJumpOp(op),
		Offset: -1,
	}.WithReference(label)
}

// LongJump emits gotol: an unconditional jump to label with a 32-bit range,
// for programs where a 16-bit offset is too short. Requires kernel 6.6 (cpu
// v4).
func LongJump(label string) Instruction {
	return Instruction{
		OpCode:   OpCode(Jump32Class).SetJumpOp(Ja),
		Constant: -1,
	}.WithReference(label)
}

// KfuncCall emits a call of the kernel function with the given BTF id, in
// the kernel's BTF (module 0) unless module is the fd_array index of a
// module's BTF. Requires kernel 5.13. Additions to cilium/ebpf's API.
func KfuncCall(btfID int32, module int16) Instruction {
	return Instruction{
		OpCode:   OpCode(JumpClass).SetJumpOp(Call),
		Src:      PseudoKfuncCall,
		Offset:   module,
		Constant: int64(btfID),
	}
}
