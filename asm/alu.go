package asm

import "strconv"

// Source says where the second operand of an ALU or jump operation comes
// from: the instruction's Constant or its Src register.
type Source uint16

// Operand sources.
const (
	// InvalidSource is returned by OpCode.Source for opcodes without one.
	InvalidSource Source = 0xffff
	// ImmSource reads the operand from Constant (BPF_K).
	ImmSource = Source(_BPF_K)
	// RegSource reads the operand from Src (BPF_X).
	RegSource = Source(_BPF_X)
)

// String returns the constant's name.
func (s Source) String() string {
	switch s {
	case ImmSource:
		return "ImmSource"
	case RegSource:
		return "RegSource"
	case InvalidSource:
		return "InvalidSource"
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// Endianness is the byte order a 32-bit class byte swap converts to. It
// occupies the bit that other ALU operations use for their Source.
type Endianness uint8

// Byte swap directions.
const (
	// InvalidEndian is returned by OpCode.Endianness for non-swaps.
	InvalidEndian Endianness = 0xff
	// LE converts between host order and little endian (BPF_TO_LE).
	LE = Endianness(_BPF_TO_LE)
	// BE converts between host order and big endian (BPF_TO_BE).
	BE = Endianness(_BPF_TO_BE)
)

// String returns the constant's name.
func (e Endianness) String() string {
	switch e {
	case LE:
		return "LE"
	case BE:
		return "BE"
	case InvalidEndian:
		return "InvalidEndian"
	}
	return "Endianness(" + strconv.Itoa(int(e)) + ")"
}

// ALUOp is an arithmetic operation. The low byte holds the kernel's
// operation bits (0xf0 of the opcode); the high byte holds the offset field
// value that turns an operation into its variant (signed division, sign
// extending move), see OpCode.
type ALUOp uint16

// The offsets the v4 ISA uses to select ALU variants (Linux 6.6). They live
// in the kernel's verifier and the ISA document, not in a UAPI header.
const (
	offSigned = 1  // sdiv, smod
	offSX8    = 8  // movsx from 8 bits
	offSX16   = 16 // movsx from 16 bits
	offSX32   = 32 // movsx from 32 bits
)

// Arithmetic operations.
const (
	// InvalidALUOp is returned by OpCode.ALUOp for non-ALU opcodes.
	InvalidALUOp ALUOp = 0xffff
	// Add: dst += src.
	Add = ALUOp(_BPF_ADD)
	// Sub: dst -= src.
	Sub = ALUOp(_BPF_SUB)
	// Mul: dst *= src.
	Mul = ALUOp(_BPF_MUL)
	// Div: dst /= src, unsigned. Division by zero yields zero.
	Div = ALUOp(_BPF_DIV)
	// SDiv: dst /= src, signed. Requires kernel 6.6 (cpu v4).
	SDiv = Div | offSigned<<aluExtShift
	// Or: dst |= src.
	Or = ALUOp(_BPF_OR)
	// And: dst &= src.
	And = ALUOp(_BPF_AND)
	// LSh: dst <<= src.
	LSh = ALUOp(_BPF_LSH)
	// RSh: dst >>= src, logical.
	RSh = ALUOp(_BPF_RSH)
	// Neg: dst = -dst.
	Neg = ALUOp(_BPF_NEG)
	// Mod: dst %= src, unsigned.
	Mod = ALUOp(_BPF_MOD)
	// SMod: dst %= src, signed. Requires kernel 6.6 (cpu v4).
	SMod = Mod | offSigned<<aluExtShift
	// Xor: dst ^= src.
	Xor = ALUOp(_BPF_XOR)
	// Mov: dst = src.
	Mov = ALUOp(_BPF_MOV)
	// MovSX8: dst = the low 8 bits of src, sign extended. Requires kernel
	// 6.6 (cpu v4).
	MovSX8 = Mov | offSX8<<aluExtShift
	// MovSX16: dst = the low 16 bits of src, sign extended. Requires kernel
	// 6.6 (cpu v4).
	MovSX16 = Mov | offSX16<<aluExtShift
	// MovSX32: dst = the low 32 bits of src, sign extended; ALU64 only.
	// Requires kernel 6.6 (cpu v4).
	MovSX32 = Mov | offSX32<<aluExtShift
	// ArSh: dst >>= src, arithmetic (sign filling).
	ArSh = ALUOp(_BPF_ARSH)
	// Swap: byte order conversion (BPF_END); see HostTo and BSwap.
	Swap = ALUOp(_BPF_END)
)

var aluNames = [16]string{
	"Add", "Sub", "Mul", "Div", "Or", "And", "LSh", "RSh",
	"Neg", "Mod", "Xor", "Mov", "ArSh", "Swap", "", "",
}

// String returns the constant's name, e.g. "SDiv" or "MovSX16".
func (op ALUOp) String() string {
	switch op {
	case InvalidALUOp:
		return "InvalidALUOp"
	case SDiv:
		return "SDiv"
	case SMod:
		return "SMod"
	case MovSX8:
		return "MovSX8"
	case MovSX16:
		return "MovSX16"
	case MovSX32:
		return "MovSX32"
	}
	if op&^0xf0 == 0 && aluNames[op>>4] != "" {
		return aluNames[op>>4]
	}
	return "ALUOp(" + strconv.FormatUint(uint64(op), 16) + ")"
}

// swapWidth is the immediate of a byte swap: the width in bits.
func swapWidth(size Size) (int64, bool) {
	switch size {
	case Half:
		return 16, true
	case Word:
		return 32, true
	case DWord:
		return 64, true
	}
	return 0, false
}

// HostTo emits a conversion of the low size bytes of dst between host byte
// order and endian (le16/be32/... in the kernel's words), zeroing the rest.
// size is Half, Word or DWord; anything else gives InvalidOpCode.
func HostTo(endian Endianness, dst Register, size Size) Instruction {
	width, ok := swapWidth(size)
	if !ok || (endian != LE && endian != BE) {
		return Instruction{OpCode: InvalidOpCode}
	}
	return Instruction{
		OpCode:   OpCode(ALUClass).SetALUOp(Swap) | OpCode(endian),
		Dst:      dst,
		Constant: width,
	}
}

// BSwap emits an unconditional reversal of the low size bytes of dst
// (bswap16/32/64), zeroing the rest. Requires kernel 6.6 (cpu v4).
func BSwap(dst Register, size Size) Instruction {
	width, ok := swapWidth(size)
	if !ok {
		return Instruction{OpCode: InvalidOpCode}
	}
	return Instruction{
		OpCode:   OpCode(ALU64Class).SetALUOp(Swap),
		Dst:      dst,
		Constant: width,
	}
}

// Op returns the 64-bit opcode of op with the given source.
func (op ALUOp) Op(source Source) OpCode {
	return OpCode(ALU64Class).SetALUOp(op).SetSource(source)
}

// Op32 returns the 32-bit opcode of op with the given source.
func (op ALUOp) Op32(source Source) OpCode {
	return OpCode(ALUClass).SetALUOp(op).SetSource(source)
}

// Reg emits the 64-bit `dst op= src`.
func (op ALUOp) Reg(dst, src Register) Instruction {
	return Instruction{OpCode: op.Op(RegSource), Dst: dst, Src: src}
}

// Imm emits the 64-bit `dst op= value`, value sign extended to 64 bits.
func (op ALUOp) Imm(dst Register, value int32) Instruction {
	return Instruction{OpCode: op.Op(ImmSource), Dst: dst, Constant: int64(value)}
}

// Reg32 emits the 32-bit `dst op= src`, zeroing the upper half of dst.
func (op ALUOp) Reg32(dst, src Register) Instruction {
	return Instruction{OpCode: op.Op32(RegSource), Dst: dst, Src: src}
}

// Imm32 emits the 32-bit `dst op= value`, zeroing the upper half of dst.
func (op ALUOp) Imm32(dst Register, value int32) Instruction {
	return Instruction{OpCode: op.Op32(ImmSource), Dst: dst, Constant: int64(value)}
}
