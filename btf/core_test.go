package btf

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/bpfkit/ebpf/asm"
	"github.com/go-quicktest/qt"
)

func specOf(tb testing.TB, types ...Type) *Spec {
	tb.Helper()
	b, err := NewBuilder(types, nil)
	qt.Assert(tb, qt.IsNil(err))
	spec, err := b.Spec()
	qt.Assert(tb, qt.IsNil(err))
	return spec
}

func relocateOne(tb testing.TB, local Type, access string, kind coreKind, bo binary.ByteOrder, targets ...*Spec) (COREFixup, error) {
	tb.Helper()
	acc, err := parseCOREAccessor(access)
	qt.Assert(tb, qt.IsNil(err))
	relo := &CORERelocation{typ: local, accessor: acc, kind: kind, id: 42}
	fixups, err := CORERelocate([]*CORERelocation{relo}, targets, bo, func(Type) (TypeID, error) { return 42, nil })
	if err != nil {
		return COREFixup{}, err
	}
	return fixups[0], nil
}

var (
	tInt   = &Int{Name: "int", Size: 4, Encoding: Signed}
	tU32   = &Int{Name: "unsigned int", Size: 4}
	tU64   = &Int{Name: "unsigned long", Size: 8}
	tS64   = &Int{Name: "long", Size: 8, Encoding: Signed}
	tChar  = &Int{Name: "char", Size: 1, Encoding: Signed}
	tU8    = &Int{Name: "unsigned char", Size: 1}
	tIndex = &Int{Name: "__ARRAY_SIZE_TYPE__", Size: 4}
)

// The local view of a struct, as a program compiled against old headers
// has it, and the target's current layout.
func coreFixtures() (local *Struct, target *Struct) {
	local = &Struct{Name: "obj___old", Size: 28, Members: []Member{
		{Name: "a", Type: tInt},
		{Name: "", Type: &Struct{Size: 4, Members: []Member{{Name: "b", Type: tInt}}}, Offset: 32},
		{Name: "arr", Type: &Array{Index: tIndex, Type: tInt, Nelems: 4}, Offset: 64},
		{Name: "flags", Type: tU32, Offset: 192},
		{Name: "missing", Type: tInt, Offset: 192},
	}}
	target = &Struct{Name: "obj", Size: 64, Members: []Member{
		{Name: "pad", Type: &Array{Index: tIndex, Type: tChar, Nelems: 8}},
		{Name: "", Type: &Union{Size: 8, Members: []Member{{Name: "b", Type: tInt}, {Name: "c", Type: tS64}}}, Offset: 64},
		{Name: "a", Type: &Typedef{Name: "a_t", Type: tInt}, Offset: 128},
		{Name: "arr", Type: &Array{Index: tIndex, Type: tInt, Nelems: 8}, Offset: 160},
		{Name: "flags", Type: tU64, Offset: 448},
	}}
	return local, target
}

func TestCOREFieldRelocations(t *testing.T) {
	local, target := coreFixtures()
	targets := []*Spec{specOf(t, target)}
	tests := []struct {
		name   string
		access string
		kind   coreKind
		local  uint64
		target uint64
		poison bool
	}{
		{"a offset", "0:0", coreFieldByteOffset, 0, 16, false},
		{"anonymous b offset", "0:1:0", coreFieldByteOffset, 4, 8, false},
		{"array element offset", "0:2:3", coreFieldByteOffset, 20, 32, false},
		{"array size", "0:2", coreFieldByteSize, 16, 32, false},
		{"element size", "0:2:1", coreFieldByteSize, 4, 4, false},
		{"a exists", "0:0", coreFieldExists, 1, 1, false},
		{"missing exists", "0:4", coreFieldExists, 1, 0, false},
		{"missing offset poisons", "0:4", coreFieldByteOffset, 24, 0, true},
		{"a signed", "0:0", coreFieldSigned, 1, 1, false},
		{"flags size", "0:3", coreFieldByteSize, 4, 8, false},
		{"root array index", "1", coreFieldByteOffset, 28, 64, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fix, err := relocateOne(t, local, tt.access, tt.kind, binary.LittleEndian, targets...)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(fix.poison, tt.poison))
			qt.Assert(t, qt.Equals(fix.local, tt.local))
			if !tt.poison {
				qt.Assert(t, qt.Equals(fix.target, tt.target))
			}
		})
	}
}

func TestCOREBitfields(t *testing.T) {
	bf := func(name string, size, off, bits Bits) Member {
		return Member{Name: name, Type: tU32, Offset: off, BitfieldSize: bits}
	}
	local := &Struct{Name: "bits", Size: 4, Members: []Member{bf("x", 4, 0, 3), bf("y", 4, 3, 5)}}
	target := &Struct{Name: "bits", Size: 8, Members: []Member{bf("y", 4, 36, 5), bf("x", 4, 41, 3)}}
	targets := []*Spec{specOf(t, target)}
	type want struct {
		kind        coreKind
		le, be      uint64
		skipLocal   bool
		description string
	}
	for _, w := range []want{
		{coreFieldByteOffset, 4, 4, true, "the 4-byte word holding bits 36..40"},
		{coreFieldByteSize, 4, 4, true, ""},
		{coreFieldLshiftU64, 64 - (36 + 5 - 32), (8-4)*8 + (36 - 32), true, ""},
		{coreFieldRshiftU64, 64 - 5, 64 - 5, false, ""},
	} {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			fix, err := relocateOne(t, local, "0:1", w.kind, bo, targets...)
			qt.Assert(t, qt.IsNil(err))
			expect := w.le
			if bo == binary.BigEndian {
				expect = w.be
			}
			qt.Assert(t, qt.Equals(fix.target, expect), qt.Commentf("%s %v", w.kind, bo))
			qt.Assert(t, qt.Equals(fix.skipLocalValidation, w.skipLocal), qt.Commentf("%s", w.kind))
		}
	}

	// A bitfield that straddles a 4-byte boundary needs an 8-byte load.
	straddle := &Struct{Name: "bits", Size: 8, Members: []Member{bf("y", 4, 30, 5)}}
	fix, err := relocateOne(t, local, "0:1", coreFieldByteSize, binary.LittleEndian, specOf(t, straddle))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fix.target, uint64(8)))
}

func TestCOREAmbiguity(t *testing.T) {
	local, _ := coreFixtures()
	a := &Struct{Name: "obj", Size: 8, Members: []Member{{Name: "a", Type: tInt}}}
	b := &Struct{Name: "obj___v2", Size: 8, Members: []Member{{Name: "a", Type: tInt, Offset: 32}}}
	same := &Struct{Name: "obj___v3", Size: 8, Members: []Member{{Name: "a", Type: tInt}}}

	_, err := relocateOne(t, local, "0:0", coreFieldByteOffset, binary.LittleEndian, specOf(t, a, b))
	qt.Assert(t, qt.ErrorIs(err, errAmbiguousRelocation))

	fix, err := relocateOne(t, local, "0:0", coreFieldByteOffset, binary.LittleEndian, specOf(t, a, same))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fix.target, uint64(0)))

	// A candidate without the field does not count.
	none := &Struct{Name: "obj___v4", Size: 8, Members: []Member{{Name: "z", Type: tInt, Offset: 32}}}
	fix, err = relocateOne(t, local, "0:0", coreFieldByteOffset, binary.LittleEndian, specOf(t, a, none))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fix.target, uint64(0)))
}

func TestCORETypeRelocations(t *testing.T) {
	local := &Struct{Name: "thing___local", Size: 8, Members: []Member{{Name: "p", Type: &Pointer{Target: tInt}}}}
	thing := &Struct{Name: "thing", Size: 16, Members: []Member{{Name: "p", Type: &Pointer{Target: tInt}}, {Name: "q", Type: tS64, Offset: 64}}}
	target := specOf(t, tS64, thing)
	thingID, err := target.TypeID(mustTypeByName[*Struct](t, target, "thing"))
	qt.Assert(t, qt.IsNil(err))

	for _, tt := range []struct {
		kind          coreKind
		local, target uint64
	}{
		{coreTypeExists, 1, 1},
		{coreTypeSize, 8, 16},
		{coreTypeMatches, 1, 1},
		{coreTypeIdTarget, 42, uint64(thingID)},
		{coreTypeIdLocal, 42, 42},
	} {
		fix, err := relocateOne(t, local, "0", tt.kind, binary.LittleEndian, target)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(fix.poison, false))
		qt.Assert(t, qt.Equals(fix.local, tt.local), qt.Commentf("%s", tt.kind))
		qt.Assert(t, qt.Equals(fix.target, tt.target), qt.Commentf("%s", tt.kind))
	}

	missing := &Struct{Name: "nothing", Size: 4}
	for _, kind := range []coreKind{coreTypeExists, coreTypeSize, coreTypeMatches, coreTypeIdTarget} {
		fix, err := relocateOne(t, missing, "0", kind, binary.LittleEndian, target)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(fix.poison, false))
		qt.Assert(t, qt.Equals(fix.target, uint64(0)), qt.Commentf("%s", kind))
	}

	// type_matches is stricter than type_exists.
	mismatch := &Struct{Name: "thing___bad", Size: 8, Members: []Member{{Name: "p", Type: tInt}}}
	fix, err := relocateOne(t, mismatch, "0", coreTypeMatches, binary.LittleEndian, target)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fix.target, uint64(0)))
	fix, err = relocateOne(t, mismatch, "0", coreTypeExists, binary.LittleEndian, target)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fix.target, uint64(1)))

	_, err = relocateOne(t, &Struct{Size: 4}, "0", coreTypeExists, binary.LittleEndian, target)
	qt.Assert(t, qt.ErrorMatches(err, ".*anonymous type.*"))
	_, err = relocateOne(t, local, "1", coreTypeExists, binary.LittleEndian, target)
	qt.Assert(t, qt.IsNotNil(err))
}

func mustTypeByName[T Type](tb testing.TB, s *Spec, name string) T {
	tb.Helper()
	var t T
	qt.Assert(tb, qt.IsNil(s.TypeByName(name, &t)))
	return t
}

func TestCOREEnumRelocations(t *testing.T) {
	local := &Enum{Name: "e___local", Size: 4, Values: []EnumValue{{"A", 1}, {"B___flavor", 2}, {"GONE", 3}}}
	target := specOf(t, &Enum{Name: "e", Size: 8, Values: []EnumValue{{"B", 1 << 40}, {"A", 7}}})
	for _, tt := range []struct {
		access        string
		kind          coreKind
		local, target uint64
		poison        bool
	}{
		{"0", coreEnumvalExists, 1, 1, false},
		{"0", coreEnumvalValue, 1, 7, false},
		{"1", coreEnumvalValue, 2, 1 << 40, false},
		{"2", coreEnumvalExists, 1, 0, false},
		{"2", coreEnumvalValue, 3, 0, true},
	} {
		fix, err := relocateOne(t, local, tt.access, tt.kind, binary.LittleEndian, target)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(fix.poison, tt.poison))
		qt.Assert(t, qt.Equals(fix.local, tt.local))
		qt.Assert(t, qt.Equals(fix.target, tt.target))
	}
}

// Candidates come from every target: the kernel first, then modules.
func TestCOREModuleTargets(t *testing.T) {
	base := specOf(t, tInt, &Struct{Name: "base_only", Size: 4, Members: []Member{{Name: "x", Type: tInt}}})
	mod := &Struct{Name: "mod_only", Size: 8, Members: []Member{{Name: "pad", Type: tInt}, {Name: "x", Type: tInt, Offset: 32}}}
	// Split BTF whose struct refers to the base's int (ID 1).
	var b Builder
	_, err := b.Add(mod)
	qt.Assert(t, qt.IsNil(err))
	modSpec := splitSpecOf(t, base, mod)

	local := &Struct{Name: "mod_only", Size: 4, Members: []Member{{Name: "x", Type: tInt}}}
	fix, err := relocateOne(t, local, "0:0", coreFieldByteOffset, binary.LittleEndian, base, modSpec)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fix.target, uint64(4)))

	id, err := modSpec.TypeID(mustTypeByName[*Struct](t, modSpec, "mod_only"))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(id >= modSpec.firstTypeID()))
}

// splitSpecOf encodes types as split BTF on base, the way module BTF is.
func splitSpecOf(tb testing.TB, base *Spec, types ...Type) *Spec {
	tb.Helper()
	// Encode base and split types together, then cut the type section
	// after the base's types and the string section after its strings.
	var all []Type
	for typ, err := range base.All() {
		qt.Assert(tb, qt.IsNil(err))
		all = append(all, typ)
	}
	baseCount := len(all)
	all = append(all, types...)
	b, err := NewBuilder(all, nil)
	qt.Assert(tb, qt.IsNil(err))
	raw, err := b.Marshal(nil, &MarshalOptions{Order: binary.LittleEndian})
	qt.Assert(tb, qt.IsNil(err))
	full, err := newRawSpec(raw, nil)
	qt.Assert(tb, qt.IsNil(err))
	_, off, err := full.locate(TypeID(baseCount + 1))
	qt.Assert(tb, qt.IsNil(err))
	baseStrLen := len(base.raw.strings.data)
	splitTypes := full.types[off:]
	splitStrs := full.strings.data[baseStrLen:]
	// The combined string table is a superset of the base's only if the
	// base's strings were added first, which NewBuilder does.
	qt.Assert(tb, qt.DeepEquals(full.strings.data[:baseStrLen], base.raw.strings.data))
	split := make([]byte, btfHeaderSize)
	bo := binary.LittleEndian
	bo.PutUint16(split, btfMagic)
	split[btfHeaderVersionOff] = 1
	bo.PutUint32(split[btfHeaderHdrLenOff:], btfHeaderSize)
	bo.PutUint32(split[btfHeaderTypeLenOff:], uint32(len(splitTypes)))
	bo.PutUint32(split[btfHeaderStrOffOff:], uint32(len(splitTypes)))
	bo.PutUint32(split[btfHeaderStrLenOff:], uint32(len(splitStrs)))
	split = append(append(split, splitTypes...), splitStrs...)
	rs, err := newRawSpec(split, base.raw)
	qt.Assert(tb, qt.IsNil(err))
	return newSpec(rs)
}

func TestCOREFixupApply(t *testing.T) {
	meta := asm.Instruction{}.WithSymbol("sym")
	tests := []struct {
		name  string
		fix   COREFixup
		ins   asm.Instruction
		want  asm.Instruction
		error bool
	}{
		{"alu imm", COREFixup{kind: coreFieldByteOffset, local: 4, target: 12},
			asm.Add.Imm(asm.R1, 4), asm.Add.Imm(asm.R1, 12), false},
		{"alu imm mismatch", COREFixup{kind: coreFieldByteOffset, local: 4, target: 12},
			asm.Add.Imm(asm.R1, 5), asm.Instruction{}, true},
		{"alu register source", COREFixup{kind: coreFieldByteOffset, local: 4, target: 12},
			asm.Add.Reg(asm.R1, asm.R2), asm.Instruction{}, true},
		{"load offset", COREFixup{kind: coreFieldByteOffset, local: 8, target: 16, localSize: 4, targetSize: 4},
			asm.LoadMem(asm.R0, asm.R1, 8, asm.Word), asm.LoadMem(asm.R0, asm.R1, 16, asm.Word), false},
		{"load width grows", COREFixup{kind: coreFieldByteOffset, local: 8, target: 16, localSize: 4, targetSize: 8},
			asm.LoadMem(asm.R0, asm.R1, 8, asm.Word), asm.LoadMem(asm.R0, asm.R1, 16, asm.DWord), false},
		{"offset too large", COREFixup{kind: coreFieldByteOffset, local: 8, target: 1 << 16},
			asm.LoadMem(asm.R0, asm.R1, 8, asm.Word), asm.Instruction{}, true},
		{"ldimm64", COREFixup{kind: coreEnumvalValue, local: 1000, target: 1 << 40},
			asm.LoadImm(asm.R0, 1000, asm.DWord), asm.LoadImm(asm.R0, 1<<40, asm.DWord), false},
		{"skip validation", COREFixup{kind: coreTypeIdTarget, local: 3, target: 114, skipLocalValidation: true},
			asm.LoadImm(asm.R0, 0, asm.DWord), asm.LoadImm(asm.R0, 114, asm.DWord), false},
		{"poison keeps metadata", COREFixup{kind: coreFieldByteOffset, poison: true},
			asm.LoadMem(asm.R0, asm.R1, 8, asm.Word).WithMetadata(meta.Metadata),
			asm.BuiltinFunc(COREBadRelocationSentinel).Call().WithMetadata(meta.Metadata), false},
		{"bad mem size poisons", COREFixup{kind: coreFieldByteOffset, local: 8, target: 16, localSize: 4, targetSize: 8, badMemSize: true},
			asm.LoadMem(asm.R0, asm.R1, 8, asm.Word), asm.BuiltinFunc(COREBadRelocationSentinel).Call(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins := tt.ins
			err := tt.fix.Apply(&ins)
			if tt.error {
				qt.Assert(t, qt.IsNotNil(err))
				return
			}
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(ins.OpCode, tt.want.OpCode))
			qt.Assert(t, qt.Equals(ins.Offset, tt.want.Offset))
			qt.Assert(t, qt.Equals(ins.Constant, tt.want.Constant))
			qt.Assert(t, qt.IsTrue(ins.Metadata.Equal(tt.want.Metadata)))
		})
	}
}

// A signed field that grows cannot be read with a wider load: the
// relocation poisons the load, and the record says what failed.
func TestCOREPoisonedLoadExplains(t *testing.T) {
	local := &Struct{Name: "s", Size: 4, Members: []Member{{Name: "v", Type: tInt}}}
	target := specOf(t, &Struct{Name: "s", Size: 8, Members: []Member{{Name: "v", Type: tS64}}})
	fix, err := relocateOne(t, local, "0:0", coreFieldByteOffset, binary.LittleEndian, target)
	qt.Assert(t, qt.IsNil(err))
	relo := &CORERelocation{typ: local, accessor: coreAccessor{0, 0}, kind: coreFieldByteOffset, id: 7}
	ins := WithCORERelocationMetadata(asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), relo)
	qt.Assert(t, qt.IsNil(fix.Apply(&ins)))
	qt.Assert(t, qt.Equals(ins.Constant, int64(COREBadRelocationSentinel)))
	qt.Assert(t, qt.Equals(CORERelocationMetadata(&ins), relo))
	qt.Assert(t, qt.Equals(relo.String(), "byte_off of struct s.v (local type 7, access 0:0)"))
}

func TestCheckTypeCompatibility(t *testing.T) {
	fwd := &Fwd{Name: "s"}
	proto := func(ret Type, params ...Type) *FuncProto {
		fp := &FuncProto{Return: ret}
		for _, p := range params {
			fp.Params = append(fp.Params, FuncParam{Type: p})
		}
		return fp
	}
	for _, tt := range []struct {
		a, b Type
		ok   bool
	}{
		{tInt, tU64, true},
		{tInt, &Typedef{Name: "x", Type: &Const{Type: tU8}}, true},
		{&Struct{Name: "a"}, &Struct{Name: "b"}, true},
		{&Struct{Name: "a"}, &Union{Name: "a"}, false},
		{fwd, &Fwd{Name: "t", Kind: FwdUnion}, true},
		{&Pointer{Target: tInt}, &Pointer{Target: tChar}, true},
		{&Pointer{Target: tInt}, &Pointer{Target: &Struct{}}, false},
		{&Array{Type: tInt, Nelems: 2}, &Array{Type: tU32, Nelems: 9}, true},
		{proto(tInt, tInt), proto(tS64, tU8), true},
		{proto(tInt, tInt), proto(tInt), false},
		{proto(tInt, tInt), proto(&Void{}, tInt), false},
		{&Enum{Name: "e", Size: 4}, &Enum{Name: "f", Size: 8}, true},
		{&Void{}, &Void{}, true},
		{tInt, &Pointer{Target: tInt}, false},
	} {
		err := CheckTypeCompatibility(tt.a, tt.b)
		if tt.ok {
			qt.Assert(t, qt.IsNil(err), qt.Commentf("%v %v", tt.a, tt.b))
		} else {
			qt.Assert(t, qt.ErrorIs(err, errIncompatibleTypes), qt.Commentf("%v %v", tt.a, tt.b))
		}
	}

	// A self-referential pointer chain ends with an error, not a hang.
	p := &Pointer{}
	p.Target = p
	err := CheckTypeCompatibility(p, p)
	qt.Assert(t, qt.IsTrue(errors.Is(err, errTooDeepCompat)))
}

func TestCORETypesMatch(t *testing.T) {
	s := &Struct{Name: "s", Size: 8, Members: []Member{{Name: "a", Type: tInt}, {Name: "b", Type: tInt, Offset: 32}}}
	for _, tt := range []struct {
		a, b Type
		ok   bool
	}{
		{tInt, &Int{Name: "int", Size: 4, Encoding: Signed}, true},
		{tInt, tU32, false},
		{&Struct{Name: "s", Members: []Member{{Name: "b", Type: tInt}}}, s, true},
		{&Struct{Name: "s", Members: []Member{{Name: "c", Type: tInt}}}, s, false},
		{&Struct{Name: "s___v2", Members: []Member{{Name: "a", Type: tU32}}}, s, false},
		{&Pointer{Target: &Fwd{Name: "s"}}, &Pointer{Target: s}, true},
		{&Fwd{Name: "s"}, s, false},
		{&Enum{Name: "e", Size: 4, Values: []EnumValue{{"X", 0}}}, &Enum{Name: "e", Size: 4, Values: []EnumValue{{"Y", 1}, {"X___a", 2}}}, true},
		{&Enum{Name: "e", Size: 4, Values: []EnumValue{{"X", 0}}}, &Enum{Name: "e", Size: 8, Values: []EnumValue{{"X", 0}}}, false},
		{&Array{Type: tInt, Nelems: 2}, &Array{Type: tInt, Nelems: 3}, false},
		{&Struct{Name: "s"}, &Struct{Name: "t"}, false},
	} {
		ok, err := coreTypesMatch(tt.a, tt.b)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(ok, tt.ok), qt.Commentf("%v %v", tt.a, tt.b))
	}
}

// CO-RE against the running kernel: struct task_struct's pid moves with
// kernel configs; the flavor-suffixed local type finds it anyway.
func TestCOREAgainstKernel(t *testing.T) {
	kernel, err := LoadKernelSpec()
	if err != nil {
		t.Skip("no kernel BTF:", err)
	}
	local := &Struct{Name: "task_struct___mine", Size: 8, Members: []Member{
		{Name: "pid", Type: &Typedef{Name: "pid_t", Type: tInt}},
		{Name: "comm", Type: &Array{Index: tIndex, Type: tChar, Nelems: 16}, Offset: 32},
	}}
	task := mustTypeByName[*Struct](t, kernel, "task_struct")
	var pid, comm Member
	for _, m := range task.Members {
		switch m.Name {
		case "pid":
			pid = m
		case "comm":
			comm = m
		}
	}
	fix, err := relocateOne(t, local, "0:0", coreFieldByteOffset, binary.LittleEndian, kernel)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fix.target, uint64(pid.Offset.Bytes())))
	fix, err = relocateOne(t, local, "0:1:3", coreFieldByteOffset, binary.LittleEndian, kernel)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fix.target, uint64(comm.Offset.Bytes()+3)))
	fix, err = relocateOne(t, local, "0", coreTypeSize, binary.LittleEndian, kernel)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fix.target, uint64(task.Size)))
}
