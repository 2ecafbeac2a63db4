package asm

import (
	"strconv"
	"strings"
)

// Class is the instruction class: the three low bits of every opcode.
type Class uint8

const classMask OpCode = 0x07

// The eight instruction classes.
const (
	// LdClass loads 64-bit immediates (ldimm64) and, from classic BPF, packet
	// data (LD_ABS, LD_IND).
	LdClass = Class(_BPF_LD)
	// LdXClass loads from memory into a register.
	LdXClass = Class(_BPF_LDX)
	// StClass stores an immediate to memory.
	StClass = Class(_BPF_ST)
	// StXClass stores a register to memory, and holds the atomic operations.
	StXClass = Class(_BPF_STX)
	// ALUClass is 32-bit arithmetic: results are zero-extended to 64 bits.
	ALUClass = Class(_BPF_ALU)
	// JumpClass holds jumps comparing 64-bit values, calls and exit.
	JumpClass = Class(_BPF_JMP)
	// Jump32Class holds jumps comparing the low 32 bits, and gotol.
	// Requires kernel 5.1.
	Jump32Class = Class(_BPF_JMP32)
	// ALU64Class is 64-bit arithmetic.
	ALU64Class = Class(_BPF_ALU64)
)

// IsLoad reports whether the class is LdClass or LdXClass.
func (cls Class) IsLoad() bool { return cls == LdClass || cls == LdXClass }

// IsStore reports whether the class is StClass or StXClass.
func (cls Class) IsStore() bool { return cls == StClass || cls == StXClass }

// IsALU reports whether the class is ALUClass or ALU64Class.
func (cls Class) IsALU() bool { return cls == ALUClass || cls == ALU64Class }

// IsJump reports whether the class is JumpClass or Jump32Class.
func (cls Class) IsJump() bool { return cls == JumpClass || cls == Jump32Class }

func (cls Class) isLoadOrStore() bool { return cls < ALUClass }

func (cls Class) isJumpOrALU() bool { return cls >= ALUClass && cls <= ALU64Class }

var classNames = [8]string{
	LdClass: "LdClass", LdXClass: "LdXClass", StClass: "StClass", StXClass: "StXClass",
	ALUClass: "ALUClass", JumpClass: "JumpClass", Jump32Class: "Jump32Class", ALU64Class: "ALU64Class",
}

// String returns the constant's name, e.g. "LdXClass".
func (cls Class) String() string {
	if int(cls) < len(classNames) {
		return classNames[cls]
	}
	return "Class(" + strconv.Itoa(int(cls)) + ")"
}

// OpCode is an operation: the kernel's 8-bit opcode plus, for the operations
// the kernel distinguishes by another field, that field's value. It is not
// always the byte on the wire.
//
// The low byte is the kernel's opcode. What sits above it depends on the
// class:
//
//	ALUClass, ALU64Class    bits 8-15: the offset field that selects a variant
//	                        of the operation (1: signed div and mod; 8, 16,
//	                        32: sign-extending mov). Part of the ALUOp.
//	StXClass, AtomicMode    bits 8-16: the immediate that names the atomic
//	                        operation. The AtomicOp.
//	every other opcode      nothing: the value fits a byte.
//
// Decoding folds those fields into the OpCode and Marshal unfolds them, so
// that asm.SDiv.Imm(asm.R1, 3) needs no magic offset and a decoded
// instruction compares equal to the one the builder made.
type OpCode uint32

// InvalidOpCode is returned by setters and builders given arguments that
// make no instruction. Marshal refuses it.
const InvalidOpCode OpCode = 0xffff_ffff

const (
	opByteMask  OpCode = 0xff
	sizeMask    OpCode = 0x18
	modeMask    OpCode = 0xe0
	sourceMask  OpCode = 0x08
	jumpMask    OpCode = 0xf0
	aluMask     OpCode = 0xfff0 // operation nibble and the variant byte
	aluExtShift        = 8
	atomicShift        = 8
	atomicMask  OpCode = 0x1ff << atomicShift
)

// wellFormed reports whether op has no bits set above what its class can
// carry. InvalidOpCode is not well formed.
func (op OpCode) wellFormed() bool {
	if op <= opByteMask {
		return true
	}
	switch Class(op & classMask) {
	case ALUClass, ALU64Class:
		return op&^(aluMask|sourceMask|classMask) == 0
	case StXClass:
		return op&modeMask == OpCode(AtomicMode) && op&^(atomicMask|opByteMask) == 0
	}
	return false
}

// Opcodes the hot paths compare against, as constants.
const (
	opLdImmDW = OpCode(_BPF_LD | _BPF_IMM | _BPF_DW)
	opCall    = OpCode(_BPF_JMP | _BPF_CALL)
	opGotol   = OpCode(_BPF_JMP32 | _BPF_JA)
)

// known reports whether op's operation has a name: the ALU and jump
// operation nibbles 0xe0 and 0xf0 (0xf0 for jumps) are unassigned, and Call
// and Exit do not exist in Jump32Class.
func (op OpCode) known() bool {
	switch cls := op.Class(); {
	case cls.IsALU():
		return op&jumpMask < 0xe0
	case cls.IsJump():
		return op.JumpOp() != InvalidJumpOp && op&jumpMask != 0xf0
	}
	return true
}

// IsDWordLoad reports whether op is the 64-bit immediate load (ldimm64), the
// one instruction that takes two raw instruction slots.
func (op OpCode) IsDWordLoad() bool { return op == opLdImmDW }

// rawInstructions is the number of 8-byte slots an instruction with op
// occupies.
func (op OpCode) rawInstructions() int {
	if op.IsDWordLoad() {
		return 2
	}
	return 1
}

// Class returns the instruction class.
func (op OpCode) Class() Class { return Class(op & classMask) }

// Mode returns the addressing mode of a load or store, or InvalidMode.
func (op OpCode) Mode() Mode {
	if !op.wellFormed() || !op.Class().isLoadOrStore() {
		return InvalidMode
	}
	return Mode(op & modeMask)
}

// Size returns the access width of a load or store, or InvalidSize.
func (op OpCode) Size() Size {
	if !op.wellFormed() || !op.Class().isLoadOrStore() {
		return InvalidSize
	}
	return Size(op & sizeMask)
}

// AtomicOp returns the atomic operation of a StXClass AtomicMode opcode, or
// InvalidAtomic.
func (op OpCode) AtomicOp() AtomicOp {
	if !op.wellFormed() || op.Class() != StXClass || Mode(op&modeMask) != AtomicMode {
		return InvalidAtomic
	}
	return AtomicOp((op & atomicMask) >> atomicShift)
}

// Source returns whether an ALU or jump operation reads Constant or Src, or
// InvalidSource. Byte swaps have no source: the bit holds their Endianness.
func (op OpCode) Source() Source {
	if !op.wellFormed() || !op.Class().isJumpOrALU() || op.ALUOp() == Swap {
		return InvalidSource
	}
	return Source(op & sourceMask)
}

// ALUOp returns the arithmetic operation, or InvalidALUOp.
func (op OpCode) ALUOp() ALUOp {
	if !op.wellFormed() || !op.Class().IsALU() {
		return InvalidALUOp
	}
	return ALUOp(op & aluMask)
}

// Endianness returns the target byte order of a byte swap, or
// InvalidEndian. BSwap (ALU64Class) reports LE: its bit is zero.
func (op OpCode) Endianness() Endianness {
	if op.ALUOp() != Swap {
		return InvalidEndian
	}
	return Endianness(op & sourceMask)
}

// JumpOp returns the jump operation, or InvalidJumpOp. Call and Exit exist
// only in JumpClass.
func (op OpCode) JumpOp() JumpOp {
	if !op.wellFormed() || !op.Class().IsJump() {
		return InvalidJumpOp
	}
	j := JumpOp(op & jumpMask)
	if op.Class() == Jump32Class && (j == Call || j == Exit) {
		return InvalidJumpOp
	}
	return j
}

// fits reports whether v uses only bits of mask.
func fits(v, mask OpCode) bool { return v&^mask == 0 }

// SetMode returns op with the addressing mode replaced, or InvalidOpCode if
// op is not a load or store.
func (op OpCode) SetMode(mode Mode) OpCode {
	if !op.wellFormed() || !op.Class().isLoadOrStore() || !fits(OpCode(mode), modeMask) {
		return InvalidOpCode
	}
	op = op&^modeMask | OpCode(mode)
	if mode != AtomicMode {
		op &^= atomicMask
	}
	return op
}

// SetSize returns op with the access width replaced, or InvalidOpCode if op
// is not a load or store.
func (op OpCode) SetSize(size Size) OpCode {
	if !op.wellFormed() || !op.Class().isLoadOrStore() || !fits(OpCode(size), sizeMask) {
		return InvalidOpCode
	}
	return op&^sizeMask | OpCode(size)
}

// SetAtomicOp returns op with the atomic operation replaced, or
// InvalidOpCode if op is not a StXClass AtomicMode opcode.
func (op OpCode) SetAtomicOp(atomic AtomicOp) OpCode {
	if op.AtomicOp() == InvalidAtomic || atomic > AtomicOp(atomicMask>>atomicShift) {
		return InvalidOpCode
	}
	return op&^atomicMask | OpCode(atomic)<<atomicShift
}

// SetSource returns op with the operand source replaced, or InvalidOpCode if
// op is not an ALU or jump operation.
func (op OpCode) SetSource(source Source) OpCode {
	if !op.wellFormed() || !op.Class().isJumpOrALU() || !fits(OpCode(source), sourceMask) {
		return InvalidOpCode
	}
	return op&^sourceMask | OpCode(source)
}

// SetALUOp returns op with the arithmetic operation replaced, or
// InvalidOpCode if op is not an ALU operation.
func (op OpCode) SetALUOp(alu ALUOp) OpCode {
	if !op.wellFormed() || !op.Class().IsALU() || !fits(OpCode(alu), aluMask) {
		return InvalidOpCode
	}
	return op&^aluMask | OpCode(alu)
}

// SetJumpOp returns op with the jump operation replaced, or InvalidOpCode if
// op is not a jump or the class cannot express the operation (Call and Exit
// in Jump32Class).
func (op OpCode) SetJumpOp(jump JumpOp) OpCode {
	if !op.wellFormed() || !op.Class().IsJump() || !fits(OpCode(jump), jumpMask) {
		return InvalidOpCode
	}
	op = op&^jumpMask | OpCode(jump)
	if op.JumpOp() == InvalidJumpOp {
		return InvalidOpCode
	}
	return op
}

// String names the operation by its parts, e.g. "LdXMemDW", "AddImm32",
// "JEqReg", "StXAtomicFetchAddW", "BSwap" or "SwapBE".
func (op OpCode) String() string {
	if op == InvalidOpCode {
		return "InvalidOpCode"
	}
	if !op.wellFormed() || !op.known() {
		return "OpCode(" + strconv.FormatUint(uint64(op), 16) + ")"
	}
	var b strings.Builder
	cls := op.Class()
	switch {
	case cls.isLoadOrStore():
		b.WriteString(strings.TrimSuffix(cls.String(), "Class"))
		b.WriteString(strings.TrimSuffix(op.Mode().String(), "Mode"))
		if a := op.AtomicOp(); a != InvalidAtomic {
			b.WriteString(a.String())
		}
		b.WriteString(op.Size().suffix())

	case cls.IsALU():
		alu := op.ALUOp()
		if alu == Swap {
			if cls == ALU64Class {
				b.WriteString("BSwap")
			} else {
				b.WriteString("Swap")
				b.WriteString(op.Endianness().String())
			}
			break
		}
		b.WriteString(alu.String())
		b.WriteString(strings.TrimSuffix(op.Source().String(), "Source"))
		if cls == ALUClass {
			b.WriteString("32")
		}

	case cls.IsJump():
		j := op.JumpOp()
		b.WriteString(j.String())
		if cls == Jump32Class {
			b.WriteString("32")
		}
		// Call, Exit, Ja and JCOND normally have no source; say so when one
		// carries RegSource (callx) so that the name stays unambiguous.
		if (j != Call && j != Exit && j != Ja && j != JCOND) || op.Source() == RegSource {
			b.WriteString(strings.TrimSuffix(op.Source().String(), "Source"))
		}
	}
	return b.String()
}
