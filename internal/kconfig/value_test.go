package kconfig

import (
	"encoding/binary"
	"testing"

	"github.com/go-quicktest/qt"
)

func TestPutValue(t *testing.T) {
	var (
		boolT  = Type{Kind: Bool, Size: 1}
		tri    = Type{Kind: Tristate, Size: 4}
		char   = Type{Kind: Char, Size: 1}
		s8     = Type{Kind: Int, Size: 1, Signed: true}
		u8     = Type{Kind: Int, Size: 1}
		s16    = Type{Kind: Int, Size: 2, Signed: true}
		u32    = Type{Kind: Int, Size: 4}
		s32    = Type{Kind: Int, Size: 4, Signed: true}
		u64    = Type{Kind: Int, Size: 8}
		s64    = Type{Kind: Int, Size: 8, Signed: true}
		chars8 = Type{Kind: CharArray, Size: 8}
	)
	le, be := binary.LittleEndian, binary.BigEndian

	for _, tc := range []struct {
		typ   Type
		value string
		bo    binary.ByteOrder
		want  []byte
	}{
		{boolT, "y", le, []byte{1}},
		{boolT, "n", le, []byte{0}},
		{tri, "y", le, []byte{1, 0, 0, 0}},
		{tri, "m", le, []byte{2, 0, 0, 0}},
		{tri, "n", le, []byte{0, 0, 0, 0}},
		{tri, "m", be, []byte{0, 0, 0, 2}},
		{Type{Kind: Tristate, Size: 1}, "m", le, []byte{2}},
		{char, "m", le, []byte{'m'}},
		{char, "65", le, []byte{'A'}},
		{char, "-1", le, []byte{0xff}},
		{s8, "-128", le, []byte{0x80}},
		{s8, "127", le, []byte{0x7f}},
		{u8, "255", le, []byte{0xff}},
		{u8, "-0", le, []byte{0}},
		{s16, "-2", be, []byte{0xff, 0xfe}},
		{u32, "250", le, []byte{250, 0, 0, 0}},
		{u32, "250", be, []byte{0, 0, 0, 250}},
		{u32, "0x1000000", le, []byte{0, 0, 0, 1}},
		{u32, "0XFFFFFFFF", le, []byte{0xff, 0xff, 0xff, 0xff}},
		{u32, "0755", le, []byte{0xed, 0x01, 0, 0}},
		{u32, "0", le, []byte{0, 0, 0, 0}},
		{s32, "-42", le, []byte{0xd6, 0xff, 0xff, 0xff}},
		{s32, "-0x80000000", le, []byte{0, 0, 0, 0x80}},
		{u64, "0xdead000000000000", be, []byte{0xde, 0xad, 0, 0, 0, 0, 0, 0}},
		{u64, "18446744073709551615", le, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{s64, "-9223372036854775808", le, []byte{0, 0, 0, 0, 0, 0, 0, 0x80}},
		{chars8, `"abc"`, le, []byte{'a', 'b', 'c', 0, 0, 0, 0, 0}},
		{chars8, `""`, le, []byte{0, 0, 0, 0, 0, 0, 0, 0}},
		{chars8, `"1234567"`, le, []byte("1234567\x00")},
		{chars8, `"a\"b\\c"`, le, []byte{'a', '"', 'b', '\\', 'c', 0, 0, 0}},
	} {
		t.Run(tc.typ.String()+"="+tc.value, func(t *testing.T) {
			// Garbage in the buffer must be overwritten, padding included.
			data := make([]byte, tc.typ.Size)
			for i := range data {
				data[i] = 0xaa
			}
			qt.Assert(t, qt.IsNil(PutValue(data, tc.typ, tc.value, tc.bo)))
			qt.Assert(t, qt.DeepEquals(data, tc.want))
		})
	}
}

func TestPutValueErrors(t *testing.T) {
	for _, tc := range []struct {
		typ   Type
		value string
		size  int // data size; typ.Size when 0
		want  string
	}{
		{Type{Kind: Bool, Size: 1}, "m", 0, "value m does not fit bool: only y and n do"},
		{Type{Kind: Bool, Size: 1}, "1", 0, "number does not fit bool"},
		{Type{Kind: Bool, Size: 1}, `"y"`, 0, `string value "\\"y\\"" does not fit bool`},
		{Type{Kind: Tristate, Size: 4}, "3", 0, "number does not fit tristate"},
		{Type{Kind: Int, Size: 4}, "y", 0, "value y does not fit u32: only bool, tristate and char take y/m/n"},
		{Type{Kind: Int, Size: 4}, `"250"`, 0, `string value .* does not fit u32`},
		{Type{Kind: Int, Size: 4}, "0x100000000", 0, "value 4294967296 out of range of u32"},
		{Type{Kind: Int, Size: 4}, "-1", 0, "value -1 out of range of u32"},
		{Type{Kind: Int, Size: 1, Signed: true}, "128", 0, "value 128 out of range of s8"},
		{Type{Kind: Int, Size: 1, Signed: true}, "-129", 0, "value -129 out of range of s8"},
		{Type{Kind: Int, Size: 4, Signed: true}, "0xffffffff", 0, "value 4294967295 out of range of s32"},
		{Type{Kind: Int, Size: 8}, "18446744073709551616", 0, `value "18446744073709551616": value out of range`},
		{Type{Kind: Int, Size: 8, Signed: true}, "-9223372036854775809", 0, "value -9223372036854775809 out of range of s64"},
		{Type{Kind: Char, Size: 1}, "256", 0, "value 256 out of range of char"},
		{Type{Kind: Int, Size: 4}, "12abc", 0, `value "12abc": invalid syntax`},
		{Type{Kind: Int, Size: 4}, "0x", 0, `value "0x": invalid syntax`},
		{Type{Kind: Int, Size: 4}, "089", 0, `value "089": invalid syntax`},
		{Type{Kind: Int, Size: 4}, "--1", 0, `value "--1": not a number`},
		{Type{Kind: Int, Size: 4}, "+1", 0, `value "\+1": not a number`},
		{Type{Kind: Int, Size: 4}, "1_000", 0, `value "1_000": invalid syntax`},
		{Type{Kind: Int, Size: 4}, "", 0, `value "": not a number`},
		{Type{Kind: CharArray, Size: 4}, `"abcd"`, 0, `string "\\"abcd\\"" of 4 bytes does not fit char\[4\] with its NUL`},
		{Type{Kind: CharArray, Size: 4}, "y", 0, `value y does not fit char\[4\]: .*`},
		{Type{Kind: CharArray, Size: 4}, "12", 0, `number does not fit char\[4\]`},
		{Type{Kind: CharArray, Size: 4}, `"ab`, 0, `string .*: not enclosed in double quotes`},
		{Type{Kind: Int, Size: 3}, "1", 0, "int of 3 bytes is not supported"},
		{Type{Kind: Bool, Size: 4}, "y", 0, "bool of 4 bytes is not supported"},
		{Type{Kind: CharArray, Size: 0}, `""`, 0, "char array of 0 bytes is not supported"},
		{Type{Kind: 0, Size: 4}, "1", 0, "unknown kconfig kind 0"},
		{Type{Kind: Int, Size: 4}, "1", 8, `u32: have 8 bytes of data, want 4`},
	} {
		t.Run(tc.typ.String()+"="+tc.value, func(t *testing.T) {
			size := tc.size
			if size == 0 {
				size = tc.typ.Size
			}
			data := make([]byte, size)
			err := PutValue(data, tc.typ, tc.value, binary.LittleEndian)
			qt.Assert(t, qt.ErrorMatches(err, tc.want))
			qt.Assert(t, qt.DeepEquals(data, make([]byte, size)), qt.Commentf("a failed PutValue must not write"))
		})
	}
}

func TestPutUint(t *testing.T) {
	data := make([]byte, 4)
	qt.Assert(t, qt.IsNil(PutUint(data, Type{Kind: Int, Size: 4}, 0x061200, binary.LittleEndian)))
	qt.Assert(t, qt.DeepEquals(data, []byte{0x00, 0x12, 0x06, 0}))

	b := []byte{0}
	qt.Assert(t, qt.IsNil(PutUint(b, Type{Kind: Bool, Size: 1}, 1, binary.LittleEndian)))
	qt.Assert(t, qt.DeepEquals(b, []byte{1}))
	qt.Assert(t, qt.ErrorMatches(PutUint(b, Type{Kind: Bool, Size: 1}, 2, binary.LittleEndian), "value 2 does not fit bool"))
	qt.Assert(t, qt.ErrorMatches(PutUint(data, Type{Kind: Int, Size: 2}, 1, binary.LittleEndian), "u16: have 4 bytes of data, want 2"))
	qt.Assert(t, qt.ErrorMatches(PutUint(data[:2], Type{Kind: Int, Size: 2}, 1<<16, binary.LittleEndian), "value 65536 out of range of u16"))
}

func BenchmarkPutValue(b *testing.B) {
	data := make([]byte, 8)
	typ := Type{Kind: Int, Size: 8}
	b.ReportAllocs()
	for b.Loop() {
		if err := PutValue(data, typ, "0xdead000000000000", binary.LittleEndian); err != nil {
			b.Fatal(err)
		}
	}
}
