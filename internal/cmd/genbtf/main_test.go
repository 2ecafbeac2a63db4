package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/go-quicktest/qt"
)

// TestGeneratedUpToDate fails when btf/wire_gen.go no longer matches the
// header: run `make generate`.
func TestGeneratedUpToDate(t *testing.T) {
	header, err := os.ReadFile("../uapi/bpf-uapi.h")
	qt.Assert(t, qt.IsNil(err))
	want, err := Generate(header)
	qt.Assert(t, qt.IsNil(err))
	got, err := os.ReadFile("../../../btf/wire_gen.go")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(bytes.Equal(got, want)), qt.Commentf("btf/wire_gen.go is stale: run make generate"))
}

func TestStructLayout(t *testing.T) {
	header := []byte("struct x {\n\t__u16 a;\n\t__u32 b;\n\tunion {\n\t\t__u32 c;\n\t\t__u8 d;\n\t};\n\t__u8 e;\n};\n")
	rec, err := parseStruct(header, "x")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.CmpEquals(rec, record{name: "x", size: 16, fields: []field{
		{"a", 0, 2}, {"b", 4, 4}, {"c", 8, 4}, {"d", 8, 1}, {"e", 12, 1},
	}}, cmp.AllowUnexported(record{}, field{})))
}
