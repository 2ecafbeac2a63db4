package asm

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

type namedMap struct{ testFD }

func (namedMap) String() string { return "Map(events)" }

func TestFormat(t *testing.T) {
	insns := Instructions{
		Mov.Imm(R0, 0).WithSymbol("main").WithSource(Comment("int x = 0;")),
		LoadMapPtr(R1, 3).WithReference("events"),
		LoadMapValue(R2, 0, 8),
		JEq.Imm(R0, 0, "out"),
		FnMapLookupElem.Call(),
		Call.Label("fn"),
		KfuncCall(77, 0),
		LoadMem(R1, RFP, -8, DWord),
		BSwap(R1, Half),
		HostTo(BE, R1, Word),
		FetchAdd.Mem(R1, R2, Word, 4),
		LoadAbs(12, Half),
		JCOND.Label("out"),
		LongJump("out"),
		Return().WithSymbol("out").WithSource(Comment("  ")),
	}
	qt.Assert(t, qt.IsNil(insns[2].AssociateMap(namedMap{4})))

	want := strings.Join([]string{
		"main:",
		"\t    ; int x = 0;",
		"\t 0: MovImm dst: r0 imm: 0",
		"\t 1: LoadMapPtr dst: r1 fd: 3 <events>",
		"\t 3: LoadMapValue dst: r2 map: Map(events) off: 8",
		"\t 5: JEqImm dst: r0 off: -1 imm: 0 <out>",
		"\t 6: Call FnMapLookupElem",
		"\t 7: Call pc: -1 <fn>",
		"\t 8: Call kfunc: 77",
		"\t 9: LdXMemDW dst: r1 src: rfp off: -8",
		"\t10: BSwap16 dst: r1",
		"\t11: SwapBE32 dst: r1",
		"\t12: StXAtomicFetchAddW dst: r1 src: r2 off: 4",
		"\t13: LdAbsH imm: 12",
		"\t14: MayGoto off: -1 <out>",
		"\t15: Ja32 imm: -1 <out>",
		"out:",
		"\t16: Exit",
		"",
	}, "\n")
	qt.Assert(t, qt.Equals(insns.String(), want))

	qt.Assert(t, qt.Equals(fmt.Sprintf("% 1.3v", insns[:2]), strings.Join([]string{
		" main:",
		"      ; int x = 0;",
		"   0: MovImm dst: r0 imm: 0",
		"   1: LoadMapPtr dst: r1 fd: 3 <events>",
		"",
	}, "\n")))
	qt.Assert(t, qt.Equals(fmt.Sprintf("%d", insns[:1]), "{UNKNOWN FORMAT 'd'}"))
	qt.Assert(t, qt.Equals(fmt.Sprintf("%x", insns[0]), "{UNRECOGNIZED: x}"))
}

func TestFormatInstruction(t *testing.T) {
	for _, tc := range []struct {
		ins  Instruction
		want string
	}{
		{Instruction{OpCode: InvalidOpCode}, "INVALID"},
		{Mov.Reg32(R1, R2), "MovReg32 dst: r1 src: r2"},
		{SDiv.Imm(R1, -3), "SDivImm dst: r1 imm: -3"},
		{MovSX8.Reg(R1, R2), "MovSX8Reg dst: r1 src: r2"},
		{Instruction{OpCode: Mov.Op(RegSource), Dst: R0, Src: R1, Offset: 1, Constant: 1<<16 | 0}, "AddrSpaceCast dst: r0 src: r1 dst_as: 1 src_as: 0"},
		{Instruction{OpCode: Mov.Op(RegSource), Dst: R0, Src: R1, Offset: 2, Constant: 5}, "MovReg dst: r0 src: r1 off: 2 imm: 5"},
		{LoadImm(R1, -2, DWord), "LdImmDW dst: r1 imm: -2"},
		{Instruction{OpCode: LoadImmOp(DWord), Dst: R1, Src: PseudoBTFID, Constant: 9}, "LdImmDW dst: r1 src: btf_id imm: 9"},
		{Instruction{OpCode: LoadImmOp(DWord), Dst: R1, Src: R9, Constant: 9}, "LdImmDW dst: r1 src: r9 imm: 9"},
		{LoadInd(R0, R7, 4, Byte), "LdIndB src: r7 imm: 4"},
		{StoreImm(RFP, -4, 7, Word), "StMemW dst: rfp off: -4 imm: 7"},
		{StoreMem(RFP, -8, R1, DWord), "StXMemDW dst: rfp src: r1 off: -8"},
		{LoadAcquire(R0, R1, Word, 0), "StXAtomicLoadAcqW dst: r0 src: r1 off: 0"},
		{JNE.Reg32(R1, R2, ""), "JNE32Reg dst: r1 off: -1 src: r2"},
		{Instruction{OpCode: Ja.Op(ImmSource), Offset: 3}, "Ja off: 3"},
		{Instruction{OpCode: Call.Op(RegSource), Dst: R3}, "CallReg dst: r3"},
		{KfuncCall(5, 2), "Call kfunc: 5 off: 2"},
		{Instruction{OpCode: Exit.Op(ImmSource), Constant: 3}, "Exit imm: 3"},
		{Instruction{OpCode: OpCode(0x1_0000)}, "OpCode(10000) dst: r0 src: r0 off: 0 imm: 0"},
		{Instruction{OpCode: 0xf5}, "OpCode(f5) dst: r0 src: r0 off: 0 imm: 0"},
		{FnKtimeGetNs.Call().WithReference("x"), "Call FnKtimeGetNs <x>"},
	} {
		qt.Check(t, qt.Equals(tc.ins.String(), tc.want))
		qt.Check(t, qt.Equals(fmt.Sprintf("%v", tc.ins), tc.want))
	}
}
