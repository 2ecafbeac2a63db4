package sys

import (
	"testing"

	"github.com/go-quicktest/qt"
)

func TestNewObjName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"xdp_prog", "xdp_prog"},
		{"map.with.dots", "map.with.dots"},
		{"a-b c/d:e", "abcde"},
		{"exactly_15chars", "exactly_15chars"},
		{"sixteen_chars_ab", "sixteen_chars_a"},
		{"a_very_long_program_name", "a_very_long_pro"},
		{"ünïcödé", "ncd"},
		{"nul\x00inside", "nulinside"},
	}
	for _, tt := range tests {
		n := NewObjName(tt.in)
		qt.Check(t, qt.Equals(n.String(), tt.want), qt.Commentf("%q", tt.in))
		qt.Check(t, qt.Equals(n[len(n)-1], byte(0)), qt.Commentf("%q: no terminating NUL", tt.in))
	}
	full := ObjName{}
	for i := range full {
		full[i] = 'x'
	}
	qt.Check(t, qt.HasLen(full.String(), 16))
}

func TestNewObjNameAllocs(t *testing.T) {
	var n ObjName
	allocs := testing.AllocsPerRun(100, func() { n = NewObjName("some_program.name") })
	qt.Check(t, qt.Equals(allocs, 0.0))
	_ = n
}
