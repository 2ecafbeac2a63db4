package asm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"

	"github.com/bpfkit/ebpf/internal"
)

var byteOrders = []binary.ByteOrder{binary.LittleEndian, binary.BigEndian}

// every is one instruction of each kind the builders make.
var every = Instructions{
	Mov.Imm(R0, 0),
	Mov.Imm32(R1, -1),
	Mov.Reg(R2, R3),
	Mov.Reg32(R4, R5),
	Add.Imm(R6, 1), Sub.Reg(R7, R8), Mul.Imm32(R9, 3), Div.Reg32(R1, R2),
	SDiv.Imm(R1, -3), SDiv.Reg32(R1, R2), SMod.Reg(R3, R4), SMod.Imm32(R3, 7),
	Or.Imm(R1, 1), And.Reg(R1, R2), LSh.Imm(R1, 3), RSh.Reg32(R1, R2), ArSh.Imm(R1, 2),
	Neg.Imm(R1, 0), Neg.Imm32(R2, 0), Mod.Imm(R1, 10), Xor.Reg(R1, R1),
	MovSX8.Reg(R1, R2), MovSX16.Reg(R1, R2), MovSX32.Reg(R1, R2), MovSX8.Reg32(R1, R2), MovSX16.Reg32(R1, R2),
	HostTo(LE, R1, Half), HostTo(BE, R1, Word), HostTo(BE, R1, DWord),
	BSwap(R1, Half), BSwap(R2, Word), BSwap(R3, DWord),
	LoadImm(R1, 0x1234_5678_9abc_def0, DWord),
	LoadImm(R1, -1, DWord),
	LoadMapPtr(R1, 3),
	LoadMapValue(R2, 4, 16),
	{OpCode: LoadImmOp(DWord), Dst: R1, Src: PseudoBTFID, Constant: 1234},
	{OpCode: LoadImmOp(DWord), Dst: R1, Src: PseudoFunc, Constant: 5},
	{OpCode: LoadImmOp(DWord), Dst: R1, Src: PseudoMapIdx, Constant: 0},
	{OpCode: LoadImmOp(DWord), Dst: R1, Src: PseudoMapIdxValue, Constant: 8<<32 | 1},
	LoadMem(R0, R1, 4, Word), LoadMem(R0, R1, -8, DWord), LoadMem(R0, R1, 0, Half), LoadMem(R0, R1, 1, Byte),
	LoadMemSX(R0, R1, 4, Word), LoadMemSX(R0, R1, 2, Half), LoadMemSX(R0, R1, 1, Byte),
	StoreMem(RFP, -8, R1, DWord), StoreMem(RFP, -4, R1, Word), StoreMem(RFP, -2, R1, Half), StoreMem(RFP, -1, R1, Byte),
	StoreImm(RFP, -8, 42, DWord), StoreImm(RFP, -4, -1, Word), StoreImm(RFP, -2, 7, Half), StoreImm(RFP, -1, 1, Byte),
	StoreXAdd(R1, R2, Word),
	AddAtomic.Mem(R1, R2, DWord, 8), FetchAdd.Mem(R1, R2, Word, 0),
	AndAtomic.Mem(R1, R2, DWord, 0), FetchAnd.Mem(R1, R2, DWord, 0),
	OrAtomic.Mem(R1, R2, Word, 0), FetchOr.Mem(R1, R2, Word, 0),
	XorAtomic.Mem(R1, R2, DWord, 0), FetchXor.Mem(R1, R2, DWord, -8),
	Xchg.Mem(R1, R2, DWord, 0), CmpXchg.Mem(R1, R2, Word, 4),
	LoadAcquire(R0, R1, Byte, 0), LoadAcquire(R0, R1, Half, 2), LoadAcquire(R0, R1, Word, 4), LoadAcquire(R0, R1, DWord, 8),
	StoreRelease(R1, R2, Byte, 0), StoreRelease(R1, R2, DWord, -8),
	LoadAbs(12, Half), LoadAbs(0, Byte), LoadAbs(-0x100000, Word),
	LoadInd(R0, R7, 14, Word), LoadInd(R0, R7, 0, Byte),
	{OpCode: Ja.Op(ImmSource), Offset: 3},
	{OpCode: OpCode(Jump32Class).SetJumpOp(Ja), Constant: 70000},
	{OpCode: JEq.Op(ImmSource), Dst: R0, Offset: 2, Constant: 0},
	{OpCode: JNE.Op(RegSource), Dst: R1, Src: R2, Offset: -5},
	{OpCode: JSLT.Op(ImmSource).SetSource(ImmSource), Dst: R1, Offset: 1, Constant: -1},
	{OpCode: OpCode(Jump32Class).SetJumpOp(JGE).SetSource(RegSource), Dst: R1, Src: R2, Offset: 7},
	{OpCode: OpCode(JumpClass).SetJumpOp(JCOND), Src: PseudoMayGoto, Offset: 4},
	FnMapLookupElem.Call(),
	FnRingbufOutput.Call(),
	{OpCode: OpCode(JumpClass).SetJumpOp(Call), Src: PseudoCall, Constant: 10},
	KfuncCall(12345, 0),
	KfuncCall(12345, 2),
	Return(),
}

func TestRoundTrip(t *testing.T) {
	for _, bo := range byteOrders {
		t.Run(bo.String(), func(t *testing.T) {
			var buf bytes.Buffer
			qt.Assert(t, qt.IsNil(every.Marshal(&buf, bo)))
			raw := bytes.Clone(buf.Bytes())
			qt.Assert(t, qt.Equals(uint64(len(raw)), every.Size()))

			insns, err := AppendInstructions(nil, bytes.NewReader(raw), bo, "linux")
			qt.Assert(t, qt.IsNil(err))
			if diff := cmp.Diff(stripMeta(every), insns); diff != "" {
				t.Fatalf("decoded instructions differ (-want +got):\n%s", diff)
			}

			// A reader without WriterTo and Len takes the copying path.
			insns2, err := AppendInstructions(nil, iotestHalfReader{bytes.NewReader(raw)}, bo, "linux")
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.CmpEquals(insns2, insns))

			var again bytes.Buffer
			qt.Assert(t, qt.IsNil(insns.Marshal(&again, bo)))
			qt.Assert(t, qt.DeepEquals(again.Bytes(), raw))

			// One at a time.
			r := bytes.NewReader(raw)
			for i, want := range insns {
				var ins Instruction
				qt.Assert(t, qt.IsNil(ins.Unmarshal(r, bo, "linux")), qt.Commentf("instruction %d", i))
				qt.Assert(t, qt.IsTrue(ins.equal(want)), qt.Commentf("instruction %d: %v != %v", i, ins, want))
			}
			var ins Instruction
			qt.Assert(t, qt.ErrorIs(ins.Unmarshal(r, bo, "linux"), io.EOF))
		})
	}
}

// iotestHalfReader returns at most 5 bytes per Read, to split instructions.
type iotestHalfReader struct{ r io.Reader }

func (h iotestHalfReader) Read(p []byte) (int, error) {
	if len(p) > 5 {
		p = p[:5]
	}
	return h.r.Read(p)
}

func stripMeta(insns Instructions) Instructions {
	out := make(Instructions, len(insns))
	for i, ins := range insns {
		out[i] = ins.WithMetadata(Metadata{})
	}
	return out
}

func TestKernelEncoding(t *testing.T) {
	// Encodings from the kernel's ISA document, little endian.
	for _, tc := range []struct {
		ins  Instruction
		want []byte
	}{
		{Mov.Imm(R0, 1), []byte{0xb7, 0x00, 0, 0, 1, 0, 0, 0}},
		{SDiv.Reg(R1, R2), []byte{0x3f, 0x21, 1, 0, 0, 0, 0, 0}},
		{SMod.Imm32(R1, 7), []byte{0x94, 0x01, 1, 0, 7, 0, 0, 0}},
		{MovSX16.Reg(R3, R4), []byte{0xbf, 0x43, 16, 0, 0, 0, 0, 0}},
		{MovSX8.Reg32(R3, R4), []byte{0xbc, 0x43, 8, 0, 0, 0, 0, 0}},
		{BSwap(R1, DWord), []byte{0xd7, 0x01, 0, 0, 64, 0, 0, 0}},
		{HostTo(BE, R1, Half), []byte{0xdc, 0x01, 0, 0, 16, 0, 0, 0}},
		{LoadMemSX(R1, R2, -2, Half), []byte{0x89, 0x21, 0xfe, 0xff, 0, 0, 0, 0}},
		{FetchAdd.Mem(R1, R2, DWord, 0), []byte{0xdb, 0x21, 0, 0, 0x01, 0, 0, 0}},
		{Xchg.Mem(R1, R2, Word, 0), []byte{0xc3, 0x21, 0, 0, 0xe1, 0, 0, 0}},
		{CmpXchg.Mem(R1, R2, DWord, 0), []byte{0xdb, 0x21, 0, 0, 0xf1, 0, 0, 0}},
		{LoadAcquire(R0, R1, Word, 4), []byte{0xc3, 0x10, 4, 0, 0x00, 0x01, 0, 0}},
		{StoreRelease(R1, R2, DWord, 0), []byte{0xdb, 0x21, 0, 0, 0x10, 0x01, 0, 0}},
		{LoadAbs(12, Half), []byte{0x28, 0, 0, 0, 12, 0, 0, 0}},
		{LoadInd(R0, R7, 2, Byte), []byte{0x50, 0x70, 0, 0, 2, 0, 0, 0}},
		{Instruction{OpCode: OpCode(Jump32Class).SetJumpOp(Ja), Constant: -2}, []byte{0x06, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff}},
		{Instruction{OpCode: OpCode(JumpClass).SetJumpOp(JCOND), Offset: 3}, []byte{0xe5, 0, 3, 0, 0, 0, 0, 0}},
		{LoadMapValue(R1, 5, 8), []byte{0x18, 0x21, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0}},
		{FnKtimeGetNs.Call(), []byte{0x85, 0, 0, 0, 5, 0, 0, 0}},
	} {
		var buf bytes.Buffer
		_, err := tc.ins.Marshal(&buf, binary.LittleEndian)
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%v", tc.ins))
		qt.Check(t, qt.DeepEquals(buf.Bytes(), tc.want), qt.Commentf("%v", tc.ins))
	}
}

func TestBigEndianRegisters(t *testing.T) {
	var buf bytes.Buffer
	_, err := Mov.Reg(R1, R2).Marshal(&buf, binary.BigEndian)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(buf.Bytes(), []byte{0xbf, 0x12, 0, 0, 0, 0, 0, 0}))
	buf.Reset()
	_, err = Mov.Reg(R1, R2).Marshal(&buf, binary.NativeEndian)
	qt.Assert(t, qt.IsNil(err))
	if internal.NativeEndian == binary.LittleEndian {
		qt.Assert(t, qt.DeepEquals(buf.Bytes(), []byte{0xbf, 0x21, 0, 0, 0, 0, 0, 0}))
	}
}

func TestMarshalErrors(t *testing.T) {
	for _, ins := range []Instruction{
		{OpCode: InvalidOpCode},
		{OpCode: 0x1_0000},
		{OpCode: LoadMemOp(Word) | 0x100},
		{OpCode: Mov.Op(ImmSource), Dst: 16},
		{OpCode: Mov.Op(ImmSource), Constant: 1 << 33},
		{OpCode: SDiv.Op(ImmSource), Offset: 1},
		{OpCode: FetchAdd.OpCode(Word), Constant: 5},
		LoadMemSX(R1, R2, 0, DWord),
		FetchAdd.Mem(R1, R2, Byte, 0),
		HostTo(LE, R1, Byte),
		BSwap(R1, Byte),
		LoadMapPtr(R1, -1),
	} {
		_, err := ins.Marshal(io.Discard, binary.LittleEndian)
		qt.Check(t, qt.IsNotNil(err), qt.Commentf("%v", ins))
	}
	_, err := Return().Marshal(io.Discard, nil)
	qt.Check(t, qt.IsNotNil(err))
}

func TestUnmarshalErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  []byte
		want error
	}{
		{"truncated", []byte{0xb7, 0, 0}, errShortInsn},
		{"ldimm64 alone", []byte{0x18, 0x01, 0, 0, 1, 0, 0, 0}, errShortDWord},
		{"ldimm64 half", []byte{0x18, 0x01, 0, 0, 1, 0, 0, 0, 0, 0}, errShortDWord},
		{"ldimm64 fields", []byte{0x18, 0x01, 0, 0, 1, 0, 0, 0, 0xb7, 0, 0, 0, 0, 0, 0, 0}, errDWordFields},
		{"atomic", []byte{0xdb, 0x21, 0, 0, 0, 0x10, 0, 0}, errAtomicImm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := AppendInstructions(nil, bytes.NewReader(tc.raw), binary.LittleEndian, "linux")
			qt.Assert(t, qt.ErrorIs(err, tc.want))
			_, err = AppendInstructions(nil, iotestHalfReader{bytes.NewReader(tc.raw)}, binary.LittleEndian, "linux")
			qt.Assert(t, qt.ErrorIs(err, tc.want))
		})
	}

	_, err := AppendInstructions(nil, bytes.NewReader(nil), binary.LittleEndian, "windows")
	qt.Assert(t, qt.ErrorIs(err, internal.ErrNotSupported))
	insns, err := AppendInstructions(nil, bytes.NewReader(nil), binary.LittleEndian, "")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(insns, 0))

	var ins Instruction
	err = ins.Unmarshal(bytes.NewReader([]byte{0x18, 0, 0, 0, 0, 0, 0, 0}), binary.LittleEndian, "linux")
	qt.Assert(t, qt.ErrorIs(err, errShortDWord))
	err = ins.Unmarshal(bytes.NewReader([]byte{0xb7, 0}), binary.LittleEndian, "linux")
	qt.Assert(t, qt.IsTrue(errors.Is(err, io.ErrUnexpectedEOF)))
}

func TestAppendKeepsExisting(t *testing.T) {
	var buf bytes.Buffer
	qt.Assert(t, qt.IsNil(Instructions{Return()}.Marshal(&buf, binary.LittleEndian)))
	start := Instructions{Mov.Imm(R0, 0).WithSymbol("f")}
	insns, err := AppendInstructions(start, bytes.NewReader(buf.Bytes()), binary.LittleEndian, "linux")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(insns, 2))
	qt.Assert(t, qt.Equals(insns.Name(), "f"))
	qt.Assert(t, qt.Equals(insns[1].OpCode.JumpOp(), Exit))
}

// lyingReader claims far more bytes than it has.
type lyingReader struct{ io.Reader }

func (lyingReader) Len() int { return math.MaxInt }

func TestAppendBoundsReservation(t *testing.T) {
	insns, err := AppendInstructions(nil, lyingReader{bytes.NewReader(nil)}, binary.LittleEndian, "linux")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(cap(insns) <= maxReserve))
}
