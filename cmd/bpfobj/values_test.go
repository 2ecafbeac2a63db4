package main

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/btf"
)

func TestFormatValue(t *testing.T) {
	u8 := &btf.Int{Name: "__u8", Size: 1}
	u16 := &btf.Int{Name: "__u16", Size: 2}
	s32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u64 := &btf.Int{Name: "__u64", Size: 8}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	boolean := &btf.Int{Name: "_Bool", Size: 1, Encoding: btf.Bool}
	enum := &btf.Enum{Name: "color", Size: 4, Values: []btf.EnumValue{{Name: "RED", Value: 0}, {Name: "BLUE", Value: 2}}}
	senum := &btf.Enum{Name: "sign", Size: 4, Signed: true, Values: []btf.EnumValue{{Name: "NEG", Value: ^uint64(0)}}}
	pair := &btf.Struct{Name: "pair", Size: 8, Members: []btf.Member{
		{Name: "a", Type: s32, Offset: 0},
		{Name: "b", Type: &btf.Typedef{Name: "u32_t", Type: &btf.Int{Name: "unsigned int", Size: 4}}, Offset: 32},
	}}
	// struct { unsigned int lo:4, mid:8; int neg:4; }: 16 bits used of 4 bytes.
	bits := &btf.Struct{Name: "bits", Size: 4, Members: []btf.Member{
		{Name: "lo", Type: &btf.Int{Name: "unsigned int", Size: 4}, Offset: 0, BitfieldSize: 4},
		{Name: "mid", Type: &btf.Int{Name: "unsigned int", Size: 4}, Offset: 4, BitfieldSize: 8},
		{Name: "neg", Type: s32, Offset: 12, BitfieldSize: 4},
	}}
	le, be := binary.LittleEndian, binary.BigEndian

	for _, tc := range []struct {
		name string
		typ  btf.Type
		b    []byte
		bo   binary.ByteOrder
		want string
	}{
		{"no type", nil, []byte{1, 2}, le, "0102"},
		{"u8", u8, []byte{200}, le, "200"},
		{"u16 le", u16, []byte{1, 2}, le, "513"},
		{"u16 be", u16, []byte{1, 2}, be, "258"},
		{"signed", s32, []byte{0xfe, 0xff, 0xff, 0xff}, le, "-2"},
		{"u64", u64, []byte{1, 0, 0, 0, 0, 0, 0, 0}, le, "1"},
		{"bool", boolean, []byte{1}, le, "true"},
		{"const volatile typedef", &btf.Const{Type: &btf.Volatile{Type: &btf.Typedef{Name: "x", Type: u16}}}, []byte{7, 0}, le, "7"},
		{"enum", enum, []byte{2, 0, 0, 0}, le, "BLUE"},
		{"enum unknown value", enum, []byte{9, 0, 0, 0}, le, "9"},
		{"signed enum", senum, []byte{0xff, 0xff, 0xff, 0xff}, le, "NEG"},
		{"pointer", &btf.Pointer{Target: u8}, []byte{0x10, 0, 0, 0, 0, 0, 0, 0}, le, "0x10"},
		{"float", &btf.Float{Name: "float", Size: 4}, []byte{0, 0, 0xc0, 0x3f}, le, "1.5"},
		{"string", &btf.Array{Type: char, Nelems: 8}, []byte("abc\x00\x00\x00\x00\x00"), le, `"abc"`},
		{"char array not a string", &btf.Array{Type: char, Nelems: 3}, []byte{'a', 0, 'b'}, le, "[97, 0, 98]"},
		{"zero char array", &btf.Array{Type: char, Nelems: 2}, []byte{0, 0}, le, `""`},
		{"signed char named char", &btf.Array{Type: &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}, Nelems: 3}, []byte("hi\x00"), le, `"hi"`},
		{"printable u8 array stays numbers", &btf.Array{Type: u8, Nelems: 2}, []byte("AB"), le, "[65, 66]"},
		{"u8 array", &btf.Array{Type: u8, Nelems: 3}, []byte{1, 2, 3}, le, "[1, 2, 3]"},
		{"long array", &btf.Array{Type: u8, Nelems: 20}, make([]byte, 20), le,
			"[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ... (20 elements)]"},
		{"struct", pair, []byte{0xff, 0xff, 0xff, 0xff, 5, 0, 0, 0}, le, "{a: -1, b: 5}"},
		{"bitfields le", bits, []byte{0x21, 0xf3, 0, 0}, le, "{lo: 1, mid: 50, neg: -1}"},
		{"bitfields be", bits, []byte{0x13, 0x2f, 0, 0}, be, "{lo: 1, mid: 50, neg: -1}"},
		{"union", &btf.Union{Name: "u", Size: 4, Members: []btf.Member{{Name: "x", Type: s32}, {Name: "y", Type: u16}}},
			[]byte{3, 0, 0, 0}, le, "{x: 3}"},
		{"size mismatch", s32, []byte{1, 2}, le, "0102"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			qt.Assert(t, qt.Equals(formatValue(tc.typ, tc.b, tc.bo), tc.want))
		})
	}
}

// A huge value is cut, not printed whole.
func TestFormatValueBounded(t *testing.T) {
	inner := &btf.Struct{Name: "s", Size: 64, Members: []btf.Member{}}
	for i := range 16 {
		inner.Members = append(inner.Members, btf.Member{Name: "field_with_a_long_name", Type: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, Offset: btf.Bits(32 * i)})
	}
	arr := &btf.Array{Type: inner, Nelems: 1000}
	s := formatValue(arr, make([]byte, 64*1000), binary.LittleEndian)
	qt.Assert(t, qt.IsTrue(len(s) < 2*maxValueLength), qt.Commentf("%d bytes: %s", len(s), s))
	qt.Assert(t, qt.IsTrue(strings.HasSuffix(s, "...")))
}

func TestTypeString(t *testing.T) {
	u32 := &btf.Typedef{Name: "__u32", Type: &btf.Int{Name: "unsigned int", Size: 4}}
	for _, tc := range []struct {
		typ  btf.Type
		want string
	}{
		{nil, ""},
		{u32, "__u32"},
		{&btf.Struct{Name: "event"}, "struct event"},
		{&btf.Struct{}, "struct {...}"},
		{&btf.Union{Name: "u"}, "union u"},
		{&btf.Enum{Name: "e"}, "enum e"},
		{&btf.Pointer{Target: &btf.Const{Type: &btf.Int{Name: "char", Size: 1}}}, "const char *"},
		{&btf.Array{Type: u32, Nelems: 4}, "__u32[4]"},
		{&btf.Datasec{Name: ".data"}, "datasec .data"},
		{&btf.Void{}, "void"},
	} {
		qt.Check(t, qt.Equals(typeString(tc.typ), tc.want))
	}
}

func TestParseVerifierStats(t *testing.T) {
	log := strings.Join([]string{
		"func#0 @0",
		"0: R1=ctx() R10=fp0",
		"verification time 27 usec",
		"stack depth 0+8",
		"processed 29 insns (limit 1000000) max_states_per_insn 1 total_states 3 peak_states 2 mark_read 1",
		"",
	}, "\n")
	qt.Assert(t, qt.DeepEquals(parseVerifierStats(log), &ProgramStats{
		Processed: 29, Limit: 1000000, MaxStatesPerInsn: 1, TotalStates: 3, PeakStates: 2, TimeMicros: 27, StackDepth: "0+8",
	}))
	qt.Assert(t, qt.DeepEquals(parseVerifierStats(""), &ProgramStats{}))
}

func TestParseHex(t *testing.T) {
	for _, in := range []string{"0a0b", "0x0a0b", "0a:0b", "0a 0b", "0A0B"} {
		b, err := parseHex(in)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(b, []byte{10, 11}))
	}
	for _, in := range []string{"0a0", "zz", "0x"} {
		b, err := parseHex(in)
		if in == "0x" {
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.HasLen(b, 0))
			continue
		}
		qt.Assert(t, qt.IsNotNil(err), qt.Commentf("%q", in))
	}
}

func TestFlagNames(t *testing.T) {
	qt.Assert(t, qt.DeepEquals(flagNames(0, mapFlags), []string(nil)))
	qt.Assert(t, qt.DeepEquals(flagNames(1<<10|1, mapFlags), []string{"no_prealloc", "mmapable"}))
	qt.Assert(t, qt.DeepEquals(flagNames(1<<31|1<<7, mapFlags), []string{"rdonly_prog", "0x80000000"}))
}

func TestGoIdentifier(t *testing.T) {
	for in, want := range map[string]string{
		"__sk_buff":  "SkBuff",
		"xdp_md":     "XdpMd",
		"type":       "Type",
		"section_.x": "SectionX",
		"9lives":     "X9lives",
		"___":        "X",
		"fn.var":     "FnVar",
	} {
		qt.Check(t, qt.Equals(goIdentifier(in), want), qt.Commentf("%q", in))
	}
}

func TestReturnName(t *testing.T) {
	for _, tc := range []struct {
		typ  ebpf.ProgramType
		ret  uint32
		want string
	}{
		{ebpf.XDP, 2, "XDP_PASS"},
		{ebpf.XDP, 9, ""},
		{ebpf.SchedCLS, 0, "TC_ACT_OK"},
		{ebpf.SchedCLS, ^uint32(0), "TC_ACT_UNSPEC"},
		{ebpf.SchedACT, 2, "TC_ACT_SHOT"},
		{ebpf.SocketFilter, 0, "drop"},
		{ebpf.SocketFilter, 50, "keep 50 bytes"},
		{ebpf.CGroupSKB, 1, "allow"},
		{ebpf.Syscall, 1, ""},
	} {
		qt.Check(t, qt.Equals(returnName(tc.typ, tc.ret), tc.want), qt.Commentf("%v %d", tc.typ, tc.ret))
	}
}
