package main

import (
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/btf"
)

func TestJSONValue(t *testing.T) {
	u8 := &btf.Int{Name: "unsigned char", Size: 1}
	s16 := &btf.Int{Name: "short", Size: 2, Encoding: btf.Signed}
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}
	boolean := &btf.Int{Name: "_Bool", Size: 1, Encoding: btf.Bool}
	i128 := &btf.Int{Name: "__int128", Size: 16, Encoding: btf.Signed}
	enum := &btf.Enum{Name: "e", Size: 4, Values: []btf.EnumValue{{Name: "A", Value: 1}, {Name: "BIG", Value: 0xffffffff}}}

	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		name string
		typ  btf.Type
		data []byte
		bo   binary.ByteOrder
		want string
	}{
		{"signed", s16, []byte{0xfe, 0xff}, le, `-2`},
		{"big endian", u32, []byte{0, 0, 1, 2}, be, `258`},
		{"bool", boolean, []byte{1}, le, `true`},
		{"char encoding", &btf.Int{Name: "c", Size: 1, Encoding: btf.Char}, []byte{'x'}, le, `"x"`},
		{"int128", i128, []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}, le, `"0x20000000000000001"`},
		{"small int128", i128, []byte{5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, le, `"0x5"`},
		{"enum name", enum, []byte{0xff, 0xff, 0xff, 0xff}, le, `"BIG"`},
		{"enum without name", enum, []byte{2, 0, 0, 0}, le, `2`},
		{"pointer", &btf.Pointer{Target: u32}, []byte{0x10, 0, 0, 0, 0, 0, 0, 0}, le, `16`},
		{"string", &btf.Array{Index: u32, Type: &btf.Const{Type: char}, Nelems: 4}, []byte("ab\x00z"), le, `"ab"`},
		{"no NUL", &btf.Array{Index: u32, Type: char, Nelems: 2}, []byte("ab"), le, `[97,98]`},
		{"typedef char is no string", &btf.Array{Index: u32, Type: &btf.Typedef{Name: "c_t", Type: char}, Nelems: 2}, []byte("a\x00"), le, `[97,0]`},
		{"bytes", &btf.Array{Index: u32, Type: u8, Nelems: 2}, []byte{1, 2}, le, `[1,2]`},
		{"struct with bitfields and an anonymous union", &btf.Struct{Size: 8, Members: []btf.Member{
			{Name: "lo", Type: u32, BitfieldSize: 4},
			{Name: "hi", Type: u32, Offset: 4, BitfieldSize: 12},
			{Name: "", Type: &btf.Union{Size: 4, Members: []btf.Member{{Name: "x", Type: u32}, {Name: "y", Type: s16}}}, Offset: 32},
		}}, []byte{0x21, 0x43, 0, 0, 0xff, 0xff, 0, 0}, le, `{"lo":"0x1","hi":"0x432","":{"x":65535,"y":-1}}`},
		{"big-endian bitfield", &btf.Struct{Size: 4, Members: []btf.Member{
			{Name: "top", Type: u32, BitfieldSize: 4},
			{Name: "rest", Type: u32, Offset: 4, BitfieldSize: 28},
		}}, []byte{0x12, 0x34, 0x56, 0x78}, be, `{"top":"0x1","rest":"0x2345678"}`},
		{"datasec", &btf.Datasec{Name: ".data", Size: 8, Vars: []btf.VarSecinfo{
			{Type: &btf.Var{Name: "a", Type: u32}, Offset: 0, Size: 4},
			{Type: &btf.Var{Name: "b", Type: u32}, Offset: 4, Size: 4},
		}}, []byte{1, 0, 0, 0, 2, 0, 0, 0}, le, `{".data":[{"a":1},{"b":2}]}`},
		{"float", &btf.Float{Name: "double", Size: 8}, []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x3f}, le, `1.5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := jsonValue(tt.typ, tt.data, tt.bo)
			qt.Assert(t, qt.IsNil(err))
			got, err := json.Marshal(v)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(string(got), tt.want))
		})
	}

	// Short data and types without values are errors, not panics.
	for _, bad := range []struct {
		typ  btf.Type
		data []byte
	}{
		{u32, []byte{1}},
		{&btf.Array{Index: u32, Type: u32, Nelems: 4}, make([]byte, 8)},
		{&btf.Struct{Size: 8, Members: []btf.Member{{Name: "x", Type: u32, Offset: 64}}}, make([]byte, 8)},
		{&btf.Fwd{Name: "f"}, nil},
		{&btf.Datasec{Name: ".bss", Vars: []btf.VarSecinfo{{Type: &btf.Var{Name: "v", Type: u32}, Offset: 4, Size: 4}}}, make([]byte, 4)},
	} {
		_, err := jsonValue(bad.typ, bad.data, le)
		qt.Check(t, qt.IsNotNil(err), qt.Commentf("%v", bad.typ))
	}
}
