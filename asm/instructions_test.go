package asm

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/internal"
)

type testFD int

func (fd testFD) FD() int { return int(fd) }

func TestTag(t *testing.T) {
	// Loaded on Linux 6.18 with a real map fd (3); the kernel reported tag
	// 4534ef0e86c12516 (SHA-256). The fds are not part of the tag, so any
	// fd gives the same.
	insns := Instructions{
		LoadMapPtr(R1, 7),
		LoadMapValue(R2, 7, 4),
		LoadImm(R3, 0x1122334455667788, DWord),
		Mov.Imm(R0, 0),
		Return(),
	}
	ok, err := insns.HasTag("4534ef0e86c12516", binary.LittleEndian)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(ok))
	ok, err = insns.HasTag("4534ef0e86c12517", binary.LittleEndian)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsFalse(ok))

	// The SHA-1 tag of kernels before 6.18 over the same bytes; it is also
	// accepted by HasTag.
	tag, err := insns.Tag(binary.LittleEndian)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(tag, "2c73bcacf47b6802"))
	ok, err = insns.HasTag(tag, binary.LittleEndian)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(ok))

	// Tag leaves the fds in place.
	qt.Assert(t, qt.Equals(insns[0].Constant, int64(7)))

	_, err = Instructions{{OpCode: InvalidOpCode}}.Tag(binary.LittleEndian)
	qt.Assert(t, qt.IsNotNil(err))
}

func TestTagOfTestdata(t *testing.T) {
	// isa_mem of testdata/isa-el.elf, loaded with bpftool on Linux 6.18:
	// tag d9cc99068c6f570d.
	for _, sec := range testdataSections(t) {
		if sec.file != "isa-el.elf" || sec.name != "socket" {
			continue
		}
		insns, err := AppendInstructions(nil, bytes.NewReader(sec.data), binary.LittleEndian, "linux")
		qt.Assert(t, qt.IsNil(err))
		// isa_mem is the third program: raw offsets 91 to 126.
		var prog Instructions
		iter := insns.Iterate()
		for iter.Next() {
			if iter.Offset >= 91 && iter.Offset <= 126 {
				prog = append(prog, *iter.Ins)
			}
		}
		ok, err := prog.HasTag("d9cc99068c6f570d", binary.LittleEndian)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.IsTrue(ok))
		return
	}
	t.Fatal("isa-el.elf has no socket section")
}

func TestMarshalResolvesReferences(t *testing.T) {
	insns := Instructions{
		Mov.Imm(R0, 0).WithSymbol("main"),
		JEq.Imm(R1, 0, "out"),
		Call.Label("fn"),
		LoadImm(R2, 0, DWord),
		JNE.Reg32(R1, R2, "main"),
		LongJump("out"),
		{OpCode: LoadImmOp(DWord), Dst: R3, Src: PseudoFunc, Constant: -1, Metadata: Metadata{}},
		Return().WithSymbol("out"),
		Mov.Imm(R0, 1).WithSymbol("fn"),
		Return(),
	}
	insns[6] = insns[6].WithReference("fn")
	qt.Assert(t, qt.DeepEquals(insns.FunctionReferences(), []string{"fn"}))

	var buf bytes.Buffer
	qt.Assert(t, qt.IsNil(insns.Marshal(&buf, binary.LittleEndian)))

	// Raw offsets: main 0, jeq 1, call 2, ldimm64 3-4, jne 5, gotol 6,
	// ldimm64 7-8, out 9, fn 10.
	qt.Check(t, qt.Equals(insns[1].Offset, int16(9-1-1)))
	qt.Check(t, qt.Equals(insns[2].Constant, int64(10-2-1)))
	qt.Check(t, qt.Equals(insns[4].Offset, int16(0-5-1)))
	qt.Check(t, qt.Equals(insns[5].Constant, int64(9-6-1)))
	qt.Check(t, qt.Equals(insns[6].Constant, int64(10-7-1)))
	qt.Check(t, qt.HasLen(insns.FunctionReferences(), 0))

	decoded, err := AppendInstructions(nil, bytes.NewReader(buf.Bytes()), binary.LittleEndian, "linux")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(decoded, len(insns)))
	for i := range insns {
		qt.Check(t, qt.IsTrue(decoded[i].equal(insns[i])), qt.Commentf("%d: %v != %v", i, decoded[i], insns[i]))
	}
}

func TestMarshalErrorsName(t *testing.T) {
	err := Instructions{JEq.Imm(R0, 0, "nowhere"), Return()}.Marshal(&bytes.Buffer{}, binary.LittleEndian)
	qt.Assert(t, qt.ErrorIs(err, ErrUnsatisfiedProgramReference))
	qt.Assert(t, qt.ErrorMatches(err, `instruction 0 \(JEqImm\): symbol "nowhere": unsatisfied program reference`))

	err = Instructions{Return().WithSymbol("a"), Return().WithSymbol("a")}.Marshal(&bytes.Buffer{}, binary.LittleEndian)
	qt.Assert(t, qt.ErrorMatches(err, `.*duplicate symbol "a".*`))

	err = Instructions{Return(), {OpCode: InvalidOpCode}}.Marshal(&bytes.Buffer{}, binary.LittleEndian)
	qt.Assert(t, qt.ErrorMatches(err, `instruction 1: invalid opcode.*`))

	far := make(Instructions, 0, 1<<15+2)
	far = append(far, Ja.Label("end"))
	for range 1 << 15 {
		far = append(far, Mov.Imm(R0, 0))
	}
	far = append(far, Return().WithSymbol("end"))
	err = far.Marshal(&bytes.Buffer{}, binary.LittleEndian)
	qt.Assert(t, qt.ErrorMatches(err, `.*does not fit 16 bits`))
}

func TestAssociateMap(t *testing.T) {
	insns := Instructions{
		LoadMapPtr(R1, 0).WithReference("events"),
		LoadMapValue(R2, 0, 8).WithReference("data"),
		Mov.Imm(R0, 0).WithReference("bogus"),
		Return(),
	}
	qt.Assert(t, qt.IsNil(insns.AssociateMap("events", testFD(5))))
	qt.Assert(t, qt.IsNil(insns.AssociateMap("data", testFD(6))))
	qt.Assert(t, qt.Equals(insns[0].Reference(), ""))
	qt.Assert(t, qt.Equals(insns[0].Map(), FDer(testFD(5))))

	err := insns.AssociateMap("missing", testFD(1))
	qt.Assert(t, qt.ErrorIs(err, ErrUnreferencedSymbol))
	qt.Assert(t, qt.IsNotNil(insns.AssociateMap("bogus", testFD(1))))
	qt.Assert(t, qt.IsNotNil(insns.AssociateMap("", testFD(1))))

	insns = insns[:2]
	ret := Return()
	qt.Assert(t, qt.IsNil(insns[1].RewriteMapOffset(16)))
	var buf bytes.Buffer
	qt.Assert(t, qt.IsNil(insns.Marshal(&buf, binary.LittleEndian)))
	qt.Assert(t, qt.Equals(insns[0].Constant, int64(5)))
	qt.Assert(t, qt.Equals(insns[1].Constant, int64(16<<32|6)))

	qt.Assert(t, qt.IsNotNil(insns[0].RewriteMapOffset(1)))
	qt.Assert(t, qt.IsNil(insns[1].RewriteMapPtr(9)))
	qt.Assert(t, qt.Equals(insns[1].Constant, int64(16<<32|9)))
	qt.Assert(t, qt.IsNotNil(insns[1].RewriteMapPtr(-1)))
	qt.Assert(t, qt.IsNotNil(ret.RewriteMapPtr(1)))
	qt.Assert(t, qt.IsNotNil(ret.RewriteMapOffset(1)))

	closed := Instructions{LoadMapPtr(R1, 0)}
	qt.Assert(t, qt.IsNil(closed[0].AssociateMap(testFD(-1))))
	qt.Assert(t, qt.ErrorMatches(closed.Marshal(&buf, binary.LittleEndian), `.*closed file descriptor`))
}

func TestOffsets(t *testing.T) {
	insns := Instructions{
		LoadImm(R0, 1, DWord).WithSymbol("a"),
		JEq.Imm(R0, 0, "b"),
		Call.Label("c"),
		Return().WithSymbol("b"),
		JEq.Imm(R0, 0, "b"),
	}
	offs, err := insns.SymbolOffsets()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(offs, map[string]int{"a": 0, "b": 3}))
	qt.Assert(t, qt.DeepEquals(insns.ReferenceOffsets(), map[string][]int{"b": {1, 4}, "c": {2}}))
	qt.Assert(t, qt.Equals(insns.Name(), "a"))
	qt.Assert(t, qt.Equals(Instructions{}.Name(), ""))
	qt.Assert(t, qt.Equals(insns.Size(), uint64(6*InstructionSize)))

	_, err = append(insns, Return().WithSymbol("a")).SymbolOffsets()
	qt.Assert(t, qt.IsNotNil(err))

	var got []RawInstructionOffset
	iter := insns.Iterate()
	for iter.Next() {
		qt.Assert(t, qt.Equals(iter.Ins, &insns[iter.Index]))
		got = append(got, iter.Offset)
	}
	qt.Assert(t, qt.DeepEquals(got, []RawInstructionOffset{0, 2, 3, 4, 5}))
	qt.Assert(t, qt.IsFalse(iter.Next()))
	qt.Assert(t, qt.Equals(RawInstructionOffset(3).Bytes(), uint64(24)))
}

func TestPredicates(t *testing.T) {
	call := Call.Label("f")
	qt.Check(t, qt.IsTrue(call.IsFunctionCall()))
	qt.Check(t, qt.IsTrue(call.IsFunctionReference()))
	qt.Check(t, qt.IsFalse(call.IsBuiltinCall()))
	helper := FnMapLookupElem.Call()
	qt.Check(t, qt.IsTrue(helper.IsBuiltinCall()))
	kf := KfuncCall(1, 0)
	qt.Check(t, qt.IsTrue(kf.IsKfuncCall()))
	fp := Instruction{OpCode: LoadImmOp(DWord), Src: PseudoFunc}
	qt.Check(t, qt.IsTrue(fp.IsLoadOfFunctionPointer()))
	c := LoadImm(R1, 5, DWord)
	qt.Check(t, qt.IsTrue(c.IsConstantLoad(DWord)))
	qt.Check(t, qt.IsFalse(c.IsLoadFromMap()))
	m := LoadMapPtr(R1, 1)
	qt.Check(t, qt.IsTrue(m.IsLoadFromMap()))
	qt.Check(t, qt.IsFalse(m.IsConstantLoad(DWord)))
	qt.Check(t, qt.Equals(c.Width(), RawInstructionOffset(2)))
	qt.Check(t, qt.IsNotNil(helper.AssociateMap(testFD(1))))
}

func TestBuiltinFunc(t *testing.T) {
	qt.Check(t, qt.Equals(FnMapLookupElem.String(), "FnMapLookupElem"))
	qt.Check(t, qt.Equals(FnCgrpStorageDelete, BuiltinFunc(211)))
	qt.Check(t, qt.Equals(FnCgrpStorageDelete.String(), "FnCgrpStorageDelete"))
	qt.Check(t, qt.Equals(FnUnspec.String(), "FnUnspec"))
	qt.Check(t, qt.Equals(BuiltinFunc(5000).String(), "BuiltinFunc(5000)"))

	fn, err := BuiltinFuncForPlatform("linux", 5)
	qt.Check(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(fn, FnKtimeGetNs))
	_, err = BuiltinFuncForPlatform("windows", 5)
	qt.Check(t, qt.ErrorIs(err, internal.ErrNotSupported))
	_, err = BuiltinFuncForPlatform("linux", 1<<28)
	qt.Check(t, qt.IsNotNil(err))
}
