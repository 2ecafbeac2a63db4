package sysenc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"testing"
	"unsafe"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"

	"github.com/bpfkit/ebpf/internal"
)

type packedOnly struct {
	A uint64
	B uint32
}

type custom struct{ v uint32 }

func (c custom) MarshalBinary() ([]byte, error) {
	return []byte{byte(c.v), byte(c.v >> 8), 0xaa}, nil
}

func (c *custom) UnmarshalBinary(b []byte) error {
	if len(b) != 3 || b[2] != 0xaa {
		return errors.New("bad custom")
	}
	c.v = uint32(b[0]) | uint32(b[1])<<8
	return nil
}

type failing struct{}

func (failing) MarshalBinary() ([]byte, error) { return nil, errors.New("nope") }

func ne16(v uint16) []byte { b := make([]byte, 2); internal.NativeEndian.PutUint16(b, v); return b }
func ne32(v uint32) []byte { b := make([]byte, 4); internal.NativeEndian.PutUint32(b, v); return b }
func ne64(v uint64) []byte { b := make([]byte, 8); internal.NativeEndian.PutUint64(b, v); return b }

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestMarshal(t *testing.T) {
	u32 := uint32(0x11223344)
	tests := []struct {
		name     string
		data     any
		want     []byte
		zeroCopy bool
	}{
		{"uint16", uint16(0xbeef), ne16(0xbeef), true},
		{"uint32", uint32(math.MaxUint32), ne32(math.MaxUint32), true},
		{"int64", int64(-2), ne64(math.MaxUint64 - 1), true},
		{"*uint32", &u32, ne32(u32), true},
		{"[]byte", []byte{1, 2, 3}, []byte{1, 2, 3}, true},
		{"[]uint32", []uint32{1, 2}, cat(ne32(1), ne32(2)), true},
		{"[2]uint16", [2]uint16{5, 6}, cat(ne16(5), ne16(6)), true},
		{"bool", true, []byte{1}, true},
		{"explicit padding", explicitPad{A: 1, B: 2}, cat([]byte{1, 0, 0, 0}, ne32(2)), false},
		{"padded struct", padded{A: 1, B: 2, C: 3}, cat([]byte{1, 0, 0, 0}, ne32(2), ne16(3), []byte{0, 0}), false},
		{"[]padded", []padded{{A: 1}, {C: 2}}, cat([]byte{1}, make([]byte, 11), make([]byte, 8), ne16(2), []byte{0, 0}), false},
		{"unexported fields", unexported{a: 1, b: 2}, cat(ne32(1), ne16(2), []byte{0, 0}), false},
		{"string", "abc", []byte("abc"), false},
		{"MarshalBinary", custom{0x0102}, []byte{2, 1, 0xaa}, false},
		{"*MarshalBinary", &custom{0x0304}, []byte{4, 3, 0xaa}, false},
		{"unsafe.Pointer", unsafe.Pointer(&u32), ne32(u32), true},
		{"empty []byte", []byte{}, nil, true},
		{"struct{}", struct{}{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf, err := Marshal(tt.data, len(tt.want))
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.DeepEquals(buf.Bytes(), tt.want))
			qt.Assert(t, qt.Equals(buf.Len(), len(tt.want)))
			_, ok := CodecOf(tt.data).Source(tt.data, len(tt.want))
			qt.Assert(t, qt.Equals(ok, tt.zeroCopy))
		})
	}
}

// Types whose packed encoding has the expected size use encoding/binary,
// like cilium/ebpf.
func TestMarshalPacked(t *testing.T) {
	v := packedOnly{A: 1, B: 2}
	buf, err := Marshal(v, 12)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(buf.Bytes(), cat(ne64(1), ne32(2))))

	// The C layout (16 bytes, trailing padding) works too, where the
	// platform aligns uint64 to 8.
	if unsafe.Sizeof(v) == 16 {
		buf, err = Marshal(v, 16)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(buf.Bytes(), cat(ne64(1), ne32(2), make([]byte, 4))))
	}

	var out packedOnly
	qt.Assert(t, qt.IsNil(Unmarshal(&out, cat(ne64(3), ne32(4)))))
	qt.Assert(t, qt.Equals(out, packedOnly{3, 4}))
	if unsafe.Sizeof(out) == 16 {
		qt.Assert(t, qt.IsNil(Unmarshal(&out, cat(ne64(5), ne32(6), []byte{9, 9, 9, 9}))))
		qt.Assert(t, qt.Equals(out, packedOnly{5, 6}))
	}
}

func TestMarshalErrors(t *testing.T) {
	var nilU32 *uint32
	tests := []struct {
		name string
		data any
		size int
		want string
	}{
		{"nil", nil, 4, "can't marshal a nil value"},
		{"wrong size", uint32(1), 8, "uint32 is 4 bytes, want 8"},
		{"wrong slice size", []uint32{1}, 8, "[]uint32 of 4 bytes (1 elements of 4) doesn't match size 8"},
		{"nil pointer", nilU32, 4, "can't marshal a nil *uint32"},
		{"pointer field", withPointer{}, 16, "field P has type *uint32, which is not fixed-size"},
		{"map", map[int]int{}, 8, "map[int]int is not a fixed-size type"},
		{"int", 1, 8, "int is not a fixed-size type"},
		{"string size", "ab", 3, "string of 2 bytes doesn't marshal to 3 bytes"},
		{"MarshalBinary size", custom{}, 4, "sysenc.custom marshals to 3 bytes, want 4"},
		{"MarshalBinary error", failing{}, 4, "sysenc.failing: MarshalBinary: nope"},
		{"nil unsafe.Pointer", unsafe.Pointer(nil), 4, "can't marshal a nil unsafe.Pointer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Marshal(tt.data, tt.size)
			qt.Assert(t, qt.ErrorMatches(err, ".*"+regexpQuote(tt.want)+".*"))
		})
	}
}

func TestUnmarshal(t *testing.T) {
	t.Run("pointer", func(t *testing.T) {
		var v uint32
		qt.Assert(t, qt.IsNil(Unmarshal(&v, ne32(7))))
		qt.Assert(t, qt.Equals(v, 7))
	})
	t.Run("bools are normalised", func(t *testing.T) {
		var v struct {
			A bool
			B [2]bool
		}
		qt.Assert(t, qt.IsNil(Unmarshal(&v, []byte{2, 0, 0xff})))
		qt.Assert(t, qt.Equals(*(*[3]byte)(unsafe.Pointer(&v)), [3]byte{1, 0, 1}))
	})
	t.Run("padded struct", func(t *testing.T) {
		var v padded
		qt.Assert(t, qt.IsNil(Unmarshal(&v, cat([]byte{1, 9, 9, 9}, ne32(2), ne16(3), []byte{9, 9}))))
		qt.Assert(t, qt.Equals(v, padded{1, 2, 3}))
	})
	t.Run("slice in place", func(t *testing.T) {
		v := make([]uint16, 2)
		qt.Assert(t, qt.IsNil(Unmarshal(v, cat(ne16(1), ne16(2)))))
		qt.Assert(t, qt.DeepEquals(v, []uint16{1, 2}))
	})
	t.Run("pointer to slice of the right length", func(t *testing.T) {
		v := make([]byte, 3)
		orig := &v[0]
		qt.Assert(t, qt.IsNil(Unmarshal(&v, []byte{1, 2, 3})))
		qt.Assert(t, qt.DeepEquals(v, []byte{1, 2, 3}))
		qt.Assert(t, qt.Equals(&v[0], orig))
	})
	t.Run("pointer to slice is replaced", func(t *testing.T) {
		var v []uint32
		qt.Assert(t, qt.IsNil(Unmarshal(&v, cat(ne32(1), ne32(2), ne32(3)))))
		qt.Assert(t, qt.DeepEquals(v, []uint32{1, 2, 3}))
	})
	t.Run("string", func(t *testing.T) {
		var s string
		qt.Assert(t, qt.IsNil(Unmarshal(&s, []byte("hi"))))
		qt.Assert(t, qt.Equals(s, "hi"))
	})
	t.Run("UnmarshalBinary", func(t *testing.T) {
		var c custom
		qt.Assert(t, qt.IsNil(Unmarshal(&c, []byte{1, 2, 0xaa})))
		qt.Assert(t, qt.Equals(c.v, 0x0201))
		qt.Assert(t, qt.ErrorMatches(Unmarshal(&c, []byte{1}), `\*sysenc.custom: UnmarshalBinary: bad custom`))
	})
	t.Run("unsafe.Pointer", func(t *testing.T) {
		var v uint64
		qt.Assert(t, qt.IsNil(Unmarshal(unsafe.Pointer(&v), ne64(42))))
		qt.Assert(t, qt.Equals(v, 42))
	})

	errs := []struct {
		name string
		data any
		buf  []byte
		want string
	}{
		{"value", uint32(0), ne32(1), "can't unmarshal into uint32: need a pointer"},
		{"nil", nil, ne32(1), "can't unmarshal into a nil value"},
		{"nil pointer", (*uint32)(nil), ne32(1), "can't unmarshal into a nil *uint32"},
		{"size", new(uint32), ne64(1), "*uint32 is 4 bytes, want 8"},
		{"ragged slice", new([]uint32), []byte{1, 2, 3}, "3 bytes are not a whole number of uint32 elements (4 bytes each)"},
		{"pointer field", new(withPointer), make([]byte, 16), "field P has type *uint32"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			qt.Assert(t, qt.ErrorMatches(Unmarshal(tt.data, tt.buf), ".*"+regexpQuote(tt.want)+".*"))
		})
	}
}

// The fixed-size fast paths must not allocate: that is what keeps map
// lookups and updates free of garbage. Callers launder their arguments with
// NoEscape, as the map methods do.
func TestZeroCopyAllocs(t *testing.T) {
	var u32 uint32
	var arr [4]uint64
	buf := make([]byte, 8)
	tests := map[string]func(){
		"Marshal(uint32)":   func() { Marshal(NoEscape(uint32(u32+1000)), 4) },
		"Marshal(*[4]u64)":  func() { Marshal(NoEscape(&arr), 32) },
		"Marshal([]byte)":   func() { Marshal(NoEscape(buf), 8) },
		"Unmarshal(*u32)":   func() { Unmarshal(NoEscape(&u32), buf[:4]) },
		"Unmarshal([]byte)": func() { Unmarshal(NoEscape(buf), buf) },
		"Sink(*u32)":        func() { CodecOf(&u32).Sink(&u32, 4) },
	}
	for name, fn := range tests {
		qt.Check(t, qt.Equals(testing.AllocsPerRun(100, fn), 0.0), qt.Commentf("%s allocates", name))
	}
}

var sink32 any = uint32(1000)

func TestCache(t *testing.T) {
	var c Cache
	a := c.Codec(uint32(1))
	qt.Assert(t, qt.Equals(c.Codec(uint32(2)), a))
	b := c.Codec(uint64(1))
	qt.Assert(t, qt.Not(qt.Equals(a, b)))
	qt.Assert(t, qt.Equals(c.Codec(uint32(3)), a))
	qt.Assert(t, qt.Equals(c.Codec(nil).Type(), nil))
	qt.Assert(t, qt.Equals(testing.AllocsPerRun(100, func() { c.Codec(sink32) }), 0.0))
}

func TestStrided(t *testing.T) {
	dst := make([]byte, 3*8)
	qt.Assert(t, qt.IsNil(MarshalStrided(dst, []uint32{1, 2, 3}, 4, 8)))
	qt.Assert(t, qt.DeepEquals(dst, cat(ne32(1), make([]byte, 4), ne32(2), make([]byte, 4), ne32(3), make([]byte, 4))))

	out := make([]uint32, 3)
	qt.Assert(t, qt.IsNil(UnmarshalStrided(out, dst, 4, 8)))
	qt.Assert(t, qt.DeepEquals(out, []uint32{1, 2, 3}))

	ptrs := make([]*uint32, 3)
	qt.Assert(t, qt.IsNil(UnmarshalStrided(ptrs, dst, 4, 8)))
	qt.Assert(t, qt.Equals(*ptrs[2], 3))

	customs := []custom{{1}, {2}}
	dst = make([]byte, 16)
	qt.Assert(t, qt.IsNil(MarshalStrided(dst, customs, 3, 8)))
	qt.Assert(t, qt.DeepEquals(dst[8:11], []byte{2, 0, 0xaa}))
	back := make([]custom, 2)
	qt.Assert(t, qt.IsNil(UnmarshalStrided(back, dst, 3, 8)))
	qt.Assert(t, qt.CmpEquals(back, customs, cmp.AllowUnexported(custom{})))

	qt.Assert(t, qt.ErrorMatches(UnmarshalStrided(make([]uint32, 2), make([]byte, 24), 4, 8), `\[\]uint32 has 2 elements, want 3`))
	qt.Assert(t, qt.ErrorMatches(MarshalStrided(dst, uint32(1), 4, 8), `uint32 is not a slice`))
	qt.Assert(t, qt.ErrorMatches(MarshalStrided(make([]byte, 16), []uint64{1, 2}, 4, 8), `element uint64 is 8 bytes, want 4`))

	n, ok := SliceLen(&[]uint16{1, 2})
	qt.Assert(t, qt.IsTrue(ok))
	qt.Assert(t, qt.Equals(n, 2))
	_, ok = SliceLen(uint16(1))
	qt.Assert(t, qt.IsFalse(ok))
}

// TestMatchesBinary checks the zero-copy encodings against encoding/binary
// for types without padding.
func TestMatchesBinary(t *testing.T) {
	values := []any{
		uint8(1), int16(-3), uint32(0xdeadbeef), int64(math.MinInt64), float32(1.5), float64(-2.25),
		[3]uint16{1, 2, 3}, explicitPad{A: 7, B: 8}, struct {
			A [2]uint32
			B uint64
		}{[2]uint32{1, 2}, 3},
	}
	for _, v := range values {
		t.Run(fmt.Sprintf("%T", v), func(t *testing.T) {
			want, err := binary.Append(nil, internal.NativeEndian, v)
			qt.Assert(t, qt.IsNil(err))
			buf, err := Marshal(v, len(want))
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.DeepEquals(buf.Bytes(), want))
		})
	}
}

func regexpQuote(s string) string { return regexp.QuoteMeta(s) }

func TestCacheSourceSink(t *testing.T) {
	var c Cache
	u := uint32(7)
	p, codec, ok := c.Source(sink32, 4)
	qt.Assert(t, qt.IsTrue(ok))
	qt.Assert(t, qt.Equals(*(*uint32)(p), 1000))
	qt.Assert(t, qt.Equals(codec.Type().String(), "uint32"))
	_, _, ok = c.Source(sink32, 8)
	qt.Assert(t, qt.IsFalse(ok))
	_, _, ok = c.Source(padded{}, 12)
	qt.Assert(t, qt.IsFalse(ok), qt.Commentf("padding must be copied"))
	p, _, ok = c.Source([]byte{1, 2}, 2)
	qt.Assert(t, qt.IsTrue(ok))
	qt.Assert(t, qt.Equals(*(*byte)(p), 1))

	var s Cache
	p, _, ok = s.Sink(&u, 4)
	qt.Assert(t, qt.IsTrue(ok))
	qt.Assert(t, qt.Equals(p, unsafe.Pointer(&u)))
	_, _, ok = s.Sink(u, 4)
	qt.Assert(t, qt.IsFalse(ok), qt.Commentf("a boxed value can't be written"))
	var b struct{ On bool }
	p, codec, ok = s.Sink(&b, 1)
	qt.Assert(t, qt.IsTrue(ok))
	*(*byte)(p) = 9
	codec.Finish(p, 1)
	qt.Assert(t, qt.Equals(*(*byte)(unsafe.Pointer(&b.On)), 1))
	_, _, ok = s.Sink((*uint32)(nil), 4)
	qt.Assert(t, qt.IsFalse(ok))
	_, _, ok = s.Sink(&custom{}, 3)
	qt.Assert(t, qt.IsFalse(ok), qt.Commentf("UnmarshalBinary comes first"))
}
