package asm

import (
	"testing"

	"github.com/go-quicktest/qt"
)

func TestOpCodeAccessors(t *testing.T) {
	type parts struct {
		class  Class
		mode   Mode
		size   Size
		source Source
		alu    ALUOp
		jump   JumpOp
		atomic AtomicOp
		endian Endianness
	}
	none := parts{mode: InvalidMode, size: InvalidSize, source: InvalidSource, alu: InvalidALUOp, jump: InvalidJumpOp, atomic: InvalidAtomic, endian: InvalidEndian}
	with := func(f func(*parts)) parts { p := none; f(&p); return p }

	for _, tc := range []struct {
		op   OpCode
		want parts
		name string
	}{
		{LoadMemOp(Word), with(func(p *parts) { p.class, p.mode, p.size = LdXClass, MemMode, Word }), "LdXMemW"},
		{LoadMemSXOp(Half), with(func(p *parts) { p.class, p.mode, p.size = LdXClass, MemSXMode, Half }), "LdXMemSXH"},
		{LoadImmOp(DWord), with(func(p *parts) { p.class, p.mode, p.size = LdClass, ImmMode, DWord }), "LdImmDW"},
		{StoreImmOp(Byte), with(func(p *parts) { p.class, p.mode, p.size = StClass, MemMode, Byte }), "StMemB"},
		{LoadAbsOp(Half), with(func(p *parts) { p.class, p.mode, p.size = LdClass, AbsMode, Half }), "LdAbsH"},
		{LoadIndOp(Word), with(func(p *parts) { p.class, p.mode, p.size = LdClass, IndMode, Word }), "LdIndW"},
		{FetchXor.OpCode(DWord), with(func(p *parts) { p.class, p.mode, p.size, p.atomic = StXClass, AtomicMode, DWord, FetchXor }), "StXAtomicFetchXorDW"},
		{CmpXchg.OpCode(Word), with(func(p *parts) { p.class, p.mode, p.size, p.atomic = StXClass, AtomicMode, Word, CmpXchg }), "StXAtomicCmpXchgW"},
		{storeRelease.OpCode(Byte), with(func(p *parts) { p.class, p.mode, p.size, p.atomic = StXClass, AtomicMode, Byte, storeRelease }), "StXAtomicStoreRelB"},
		{SDiv.Op(ImmSource), with(func(p *parts) { p.class, p.source, p.alu = ALU64Class, ImmSource, SDiv }), "SDivImm"},
		{MovSX16.Op32(RegSource), with(func(p *parts) { p.class, p.source, p.alu = ALUClass, RegSource, MovSX16 }), "MovSX16Reg32"},
		{Swap.Op(ImmSource), with(func(p *parts) { p.class, p.alu, p.endian = ALU64Class, Swap, LE }), "BSwap"},
		{Swap.Op32(Source(BE)), with(func(p *parts) { p.class, p.alu, p.endian = ALUClass, Swap, BE }), "SwapBE"},
		{JSLE.Op(RegSource), with(func(p *parts) { p.class, p.source, p.jump = JumpClass, RegSource, JSLE }), "JSLEReg"},
		{OpCode(Jump32Class).SetJumpOp(JGT).SetSource(ImmSource), with(func(p *parts) { p.class, p.source, p.jump = Jump32Class, ImmSource, JGT }), "JGT32Imm"},
		{OpCode(Jump32Class).SetJumpOp(Ja), with(func(p *parts) { p.class, p.source, p.jump = Jump32Class, ImmSource, Ja }), "Ja32"},
		{Call.Op(ImmSource), with(func(p *parts) { p.class, p.source, p.jump = JumpClass, ImmSource, Call }), "Call"},
		{Call.Op(RegSource), with(func(p *parts) { p.class, p.source, p.jump = JumpClass, RegSource, Call }), "CallReg"},
		{JCOND.Op(ImmSource), with(func(p *parts) { p.class, p.source, p.jump = JumpClass, ImmSource, JCOND }), "JCOND"},
	} {
		got := parts{tc.op.Class(), tc.op.Mode(), tc.op.Size(), tc.op.Source(), tc.op.ALUOp(), tc.op.JumpOp(), tc.op.AtomicOp(), tc.op.Endianness()}
		qt.Check(t, qt.Equals(got, tc.want), qt.Commentf("%s", tc.name))
		qt.Check(t, qt.Equals(tc.op.String(), tc.name))
	}
}

func TestOpCodeSetters(t *testing.T) {
	// Setters refuse the wrong class and propagate InvalidOpCode.
	qt.Check(t, qt.Equals(OpCode(JumpClass).SetMode(MemMode), InvalidOpCode))
	qt.Check(t, qt.Equals(OpCode(ALUClass).SetSize(Word), InvalidOpCode))
	qt.Check(t, qt.Equals(OpCode(LdXClass).SetSource(RegSource), InvalidOpCode))
	qt.Check(t, qt.Equals(OpCode(JumpClass).SetALUOp(Add), InvalidOpCode))
	qt.Check(t, qt.Equals(OpCode(ALUClass).SetJumpOp(JEq), InvalidOpCode))
	qt.Check(t, qt.Equals(OpCode(Jump32Class).SetJumpOp(Call), InvalidOpCode))
	qt.Check(t, qt.Equals(OpCode(Jump32Class).SetJumpOp(Exit), InvalidOpCode))
	qt.Check(t, qt.Equals(LoadMemOp(Word).SetAtomicOp(FetchAdd), InvalidOpCode))
	qt.Check(t, qt.Equals(InvalidOpCode.SetSource(RegSource), InvalidOpCode))
	qt.Check(t, qt.Equals(InvalidOpCode.SetALUOp(Add), InvalidOpCode))
	qt.Check(t, qt.Equals(OpCode(ALUClass).SetALUOp(ALUOp(0x1)), InvalidOpCode))
	qt.Check(t, qt.Equals(OpCode(LdXClass).SetMode(Mode(0x01)), InvalidOpCode))

	// Changing the mode away from atomic drops the atomic operation.
	op := FetchAdd.OpCode(Word).SetMode(MemMode)
	qt.Check(t, qt.Equals(op, StoreMemOp(Word)))
	// Changing the ALU operation drops a variant.
	qt.Check(t, qt.Equals(SDiv.Op(ImmSource).SetALUOp(Add), Add.Op(ImmSource)))
	qt.Check(t, qt.Equals(Add.Op(ImmSource).SetALUOp(SMod).ALUOp(), SMod))
	qt.Check(t, qt.Equals(FetchAdd.OpCode(Word).SetAtomicOp(Xchg).AtomicOp(), Xchg))
	qt.Check(t, qt.Equals(FetchAdd.OpCode(Word).SetAtomicOp(AtomicOp(0x200)), InvalidOpCode))

	qt.Check(t, qt.IsTrue(LoadImmOp(DWord).IsDWordLoad()))
	qt.Check(t, qt.IsFalse(LoadImmOp(Word).IsDWordLoad()))

	// Malformed values report nothing.
	bad := OpCode(0x1_00b7)
	qt.Check(t, qt.Equals(bad.ALUOp(), InvalidALUOp))
	qt.Check(t, qt.Equals(bad.String(), "OpCode(100b7)"))
	qt.Check(t, qt.Equals(InvalidOpCode.String(), "InvalidOpCode"))
	qt.Check(t, qt.Equals(InvalidOpCode.JumpOp(), InvalidJumpOp))
}

func TestBuilders(t *testing.T) {
	qt.Check(t, qt.Equals(JEq.Imm(R0, 0, "x").Reference(), "x"))
	qt.Check(t, qt.Equals(Call.Imm(R0, 0, "x").OpCode, InvalidOpCode))
	qt.Check(t, qt.Equals(Exit.Reg(R0, R1, "x").OpCode, InvalidOpCode))
	qt.Check(t, qt.Equals(Ja.Reg32(R0, R1, "x").OpCode, InvalidOpCode))
	mg := JCOND.Label("loop")
	qt.Check(t, qt.Equals(mg.OpCode, JCOND.Op(ImmSource)))
	qt.Check(t, qt.Equals(mg.Src, PseudoMayGoto))
	ja := Ja.Label("l")
	qt.Check(t, qt.Equals(ja.Offset, int16(-1)))
	lj := LongJump("l")
	qt.Check(t, qt.Equals(lj.OpCode.Class(), Jump32Class))
	qt.Check(t, qt.Equals(lj.Constant, int64(-1)))
	qt.Check(t, qt.Equals(HostTo(Endianness(3), R1, Word).OpCode, InvalidOpCode))
	qt.Check(t, qt.Equals(LoadMapValue(R1, -1, 0).OpCode, InvalidOpCode))
	qt.Check(t, qt.Equals(StoreXAddOp(DWord), AddAtomic.OpCode(DWord)))
	x := StoreXAdd(R1, R2, Word)
	qt.Check(t, qt.Equals(x.OpCode.AtomicOp(), AddAtomic))

	for _, tc := range []struct {
		s    interface{ String() string }
		want string
	}{
		{R0, "r0"}, {R9, "r9"}, {RFP, "rfp"}, {Register(12), "r12"},
		{LdXClass, "LdXClass"}, {Class(9), "Class(9)"},
		{ImmSource, "ImmSource"}, {Source(3), "Source(3)"},
		{BE, "BE"}, {InvalidEndian, "InvalidEndian"},
		{MovSX32, "MovSX32"}, {ArSh, "ArSh"}, {ALUOp(0x1f0), "ALUOp(1f0)"},
		{JSet, "JSet"}, {JumpOp(0xf0), "JumpOp(240)"},
		{MemSXMode, "MemSXMode"}, {DWord, "DWord"}, {Size(3), "Size(3)"},
		{FetchAnd, "FetchAnd"}, {loadAcquire, "LoadAcq"}, {AtomicOp(0x77), "AtomicOp(77)"},
		{Comment("hi"), "hi"},
	} {
		qt.Check(t, qt.Equals(tc.s.String(), tc.want))
	}
	qt.Check(t, qt.Equals(Byte.Sizeof(), 1))
	qt.Check(t, qt.Equals(DWord.Sizeof(), 8))
	qt.Check(t, qt.Equals(InvalidSize.Sizeof(), -1))
}
