package sysenc

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
)

type padded struct {
	A uint8
	B uint32
	C uint16
}

type nested struct {
	X [2]padded
	Y bool
	Z uint64
}

type explicitPad struct {
	A uint8
	_ [3]byte
	B uint32
}

type withPointer struct {
	A uint32
	P *uint32
}

type hiddenPointer struct {
	A [2]struct {
		B uint64
		S []byte
	}
}

type blankPointer struct {
	A uint64
	_ *uint64
}

type unexported struct {
	a uint32
	b uint16
}

// layoutView is a comparable copy of a Layout.
type layoutView struct {
	Size  int
	Holes []span
	Bools []uint32
}

func view(l *Layout) layoutView { return layoutView{l.size, l.holes, l.bools} }

func TestLayoutOf(t *testing.T) {
	tests := []struct {
		typ  reflect.Type
		want layoutView
	}{
		{reflect.TypeFor[uint32](), layoutView{Size: 4}},
		{reflect.TypeFor[bool](), layoutView{Size: 1, Bools: []uint32{0}}},
		{reflect.TypeFor[[4]uint16](), layoutView{Size: 8}},
		{reflect.TypeFor[struct{}](), layoutView{Size: 0}},
		{reflect.TypeFor[[0]uint64](), layoutView{Size: 0}},
		{reflect.TypeFor[complex64](), layoutView{Size: 8}},
		{reflect.TypeFor[padded](), layoutView{Size: 12, Holes: []span{{1, 3}, {10, 2}}}},
		{reflect.TypeFor[explicitPad](), layoutView{Size: 8, Holes: []span{{1, 3}}}},
		{reflect.TypeFor[unexported](), layoutView{Size: 8, Holes: []span{{6, 2}}}},
		{reflect.TypeFor[[2]bool](), layoutView{Size: 2, Bools: []uint32{0, 1}}},
		{reflect.TypeFor[nested](), layoutView{
			Size:  40,
			Holes: []span{{1, 3}, {10, 2}, {13, 3}, {22, 2}, {25, 7}},
			Bools: []uint32{24},
		}},
		{reflect.TypeFor[struct {
			A uint64
			B uint8
		}](), layoutView{Size: 16, Holes: []span{{9, 7}}}},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String(), func(t *testing.T) {
			if tt.typ.Size() != uintptr(tt.want.Size) {
				// 32-bit platforms align 64-bit fields to 4 bytes.
				t.Skipf("%s is %d bytes on %s", tt.typ, tt.typ.Size(), runtime.GOARCH)
			}
			l, err := LayoutOf(tt.typ)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.CmpEquals(view(l), tt.want, cmp.AllowUnexported(span{})))
			qt.Assert(t, qt.Equals(l.Size(), int(tt.typ.Size())))
		})
	}
}

func TestLayoutOfRejects(t *testing.T) {
	tests := []struct {
		typ  reflect.Type
		want string // part of the error naming the culprit
	}{
		{reflect.TypeFor[*uint32](), "ptr is not a fixed-size type"},
		{reflect.TypeFor[string](), "string is not a fixed-size type"},
		{reflect.TypeFor[int](), "int is not a fixed-size type"},
		{reflect.TypeFor[uintptr](), "uintptr is not a fixed-size type"},
		{reflect.TypeFor[withPointer](), "field P has type *uint32"},
		{reflect.TypeFor[hiddenPointer](), "field A[0].S has type []uint8"},
		{reflect.TypeFor[blankPointer](), "field _ has type *uint64"},
		{reflect.TypeFor[[0]*int](), "field [0] has type *int"},
		{reflect.TypeFor[struct{ M map[int]int }](), "field M has type map[int]int"},
		{reflect.TypeFor[struct{ I any }](), "field I has type interface {}"},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String(), func(t *testing.T) {
			_, err := LayoutOf(tt.typ)
			qt.Assert(t, qt.ErrorIs(err, ErrNoLayout))
			qt.Assert(t, qt.StringContains(err.Error(), tt.want))
		})
	}
}

// fuzzFields are the building blocks of the structs FuzzLayout makes.
var fuzzFields = []reflect.Type{
	reflect.TypeFor[uint8](),
	reflect.TypeFor[uint16](),
	reflect.TypeFor[uint32](),
	reflect.TypeFor[uint64](),
	reflect.TypeFor[bool](),
	reflect.TypeFor[float32](),
	reflect.TypeFor[[3]uint8](),
	reflect.TypeFor[[2]bool](),
	reflect.TypeFor[padded](),
	reflect.TypeFor[[2]padded](),
	reflect.TypeFor[explicitPad](),
	reflect.TypeFor[struct{}](),
	reflect.TypeFor[*uint8](), // rejected
}

// FuzzLayout builds struct types from the input and checks the layout
// against the compiler's: fields and holes tile the type exactly, bools lie
// in fields, and a marshal/unmarshal round trip keeps every field and
// zeroes every hole.
func FuzzLayout(f *testing.F) {
	f.Add([]byte{0, 3, 4})
	f.Add([]byte{8, 4, 9, 0})
	f.Add([]byte{12, 1})
	f.Add([]byte{2, 11, 7, 6, 10})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 16 {
			in = in[:16]
		}
		var fields []reflect.StructField
		hasPointer := false
		for i, b := range in {
			typ := fuzzFields[int(b)%len(fuzzFields)]
			hasPointer = hasPointer || typ.Kind() == reflect.Pointer
			fields = append(fields, reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: typ})
		}
		typ := reflect.StructOf(fields)
		l, err := LayoutOf(typ)
		if hasPointer {
			qt.Assert(t, qt.ErrorIs(err, ErrNoLayout))
			return
		}
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(l.Size(), int(typ.Size())))

		// Every byte is in exactly one hole or field.
		owner := make([]int, l.Size())
		for _, h := range l.holes {
			for i := h.off; i < h.off+h.len; i++ {
				owner[i]++
			}
		}
		for i := 0; i < typ.NumField(); i++ {
			fl, err := LayoutOf(typ.Field(i).Type)
			qt.Assert(t, qt.IsNil(err))
			off := uint32(typ.Field(i).Offset)
			for j := 0; j < fl.Size(); j++ {
				owner[off+uint32(j)]++
			}
			// The field's own holes are holes of the struct, counted there.
			for _, h := range fl.holes {
				for j := h.off; j < h.off+h.len; j++ {
					owner[off+j]--
				}
			}
		}
		for i, o := range owner {
			qt.Assert(t, qt.Equals(o, 1), qt.Commentf("byte %d", i))
		}

		// Round trip through Marshal with garbage in the holes.
		v := reflect.New(typ)
		raw := unsafe.Slice((*byte)(v.UnsafePointer()), l.Size())
		for i := range raw {
			raw[i] = byte(i*7 + 1)
		}
		l.FixBools(raw)
		buf, err := Marshal(v.Interface(), l.Size())
		qt.Assert(t, qt.IsNil(err))
		out := buf.Bytes()
		for i := range out {
			if isHole(l, uint32(i)) {
				qt.Assert(t, qt.Equals(out[i], 0), qt.Commentf("hole byte %d", i))
			} else {
				qt.Assert(t, qt.Equals(out[i], raw[i]), qt.Commentf("field byte %d", i))
			}
		}
		back := reflect.New(typ)
		qt.Assert(t, qt.IsNil(Unmarshal(back.Interface(), out)))
		// Compare bytes, not values: blank fields and NaNs defeat DeepEqual.
		again, err := Marshal(back.Interface(), l.Size())
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(again.Bytes(), out))
	})
}

func isHole(l *Layout, off uint32) bool {
	for _, h := range l.holes {
		if off >= h.off && off < h.off+h.len {
			return true
		}
	}
	return false
}

func TestLayoutCached(t *testing.T) {
	a, err := LayoutOf(reflect.TypeFor[nested]())
	qt.Assert(t, qt.IsNil(err))
	b, _ := LayoutOf(reflect.TypeFor[nested]())
	qt.Assert(t, qt.Equals(a, b))
	_, err1 := LayoutOf(reflect.TypeFor[withPointer]())
	_, err2 := LayoutOf(reflect.TypeFor[withPointer]())
	qt.Assert(t, qt.IsTrue(errors.Is(err1, ErrNoLayout) && err1 == err2))
	qt.Assert(t, qt.IsTrue(strings.HasPrefix(err1.Error(), "sysenc.withPointer: ")))
}
