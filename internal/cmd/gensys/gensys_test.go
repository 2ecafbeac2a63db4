package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

const headerPath = "../uapi/bpf-uapi.h"

// TestGeneratedFilesUpToDate fails when the committed output in
// internal/sys differs from what the generator makes of the header.
func TestGeneratedFilesUpToDate(t *testing.T) {
	src, err := os.ReadFile(headerPath)
	qt.Assert(t, qt.IsNil(err))
	files, err := generate(src)
	qt.Assert(t, qt.IsNil(err))
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("../../sys", name))
		qt.Assert(t, qt.IsNil(err))
		qt.Check(t, qt.IsTrue(bytes.Equal(got, want)),
			qt.Commentf("internal/sys/%s is stale: run make generate", name))
	}
}

func TestGenerateDeterministic(t *testing.T) {
	src, err := os.ReadFile(headerPath)
	qt.Assert(t, qt.IsNil(err))
	a, err := generate(src)
	qt.Assert(t, qt.IsNil(err))
	b, err := generate(src)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(a, b))
}

const prelude = "typedef unsigned char __u8;\ntypedef unsigned short __u16;\ntypedef unsigned int __u32;\ntypedef unsigned long long __u64;\ntypedef int __s32;\n"

type member struct {
	Name      string
	Off, Size int
	Bits      int
	BitOf     int
}

func members(t *testing.T, src, tag string) (int, []member) {
	t.Helper()
	h, err := parseHeader(prelude + src)
	qt.Assert(t, qt.IsNil(err))
	typ := h.structs[tag]
	qt.Assert(t, qt.IsNotNil(typ))
	qt.Assert(t, qt.IsNil(layout(typ)))
	var out []member
	var walk func(t *ctype, base int, prefix string)
	walk = func(t *ctype, base int, prefix string) {
		for _, f := range t.fields {
			if f.typ.kind == kindStruct || f.typ.kind == kindUnion {
				p := prefix
				if f.name != "" {
					p += f.name + "."
				}
				walk(f.typ, base+f.off, p)
				continue
			}
			out = append(out, member{prefix + f.name, base + f.off, f.typ.size, f.bits, f.bitOf})
		}
	}
	walk(typ, 0, "")
	return typ.size, out
}

func TestLayoutRules(t *testing.T) {
	tests := []struct {
		name, src, tag string
		size           int
		want           []member
	}{
		{
			name: "padding before u64 and at the end",
			src:  "struct a {\n\t__u32 x;\n\t__u64 y;\n\t__u8 z;\n};\n",
			tag:  "struct a", size: 24,
			want: []member{{"x", 0, 4, 0, 0}, {"y", 8, 8, 0, 0}, {"z", 16, 1, 0, 0}},
		},
		{
			name: "anonymous union and named nested struct",
			src:  "union u {\n\tstruct {\n\t\t__u32 a;\n\t\tunion {\n\t\t\t__u32 b;\n\t\t\t__u64 c;\n\t\t};\n\t};\n\tstruct {\n\t\t__u8 d[3];\n\t} n;\n};\n",
			tag:  "union u", size: 16,
			want: []member{{"a", 0, 4, 0, 0}, {"b", 8, 4, 0, 0}, {"c", 8, 8, 0, 0}, {"n.d", 0, 3, 0, 0}},
		},
		{
			name: "bitfields share a unit",
			src:  "struct b {\n\t__u32 x;\n\t__u32 f: 1;\n\t__u32 g: 3;\n\t__u64 y;\n};\n",
			tag:  "struct b", size: 16,
			want: []member{{"x", 0, 4, 0, 0}, {"f", 4, 4, 1, 0}, {"g", 4, 4, 3, 1}, {"y", 8, 8, 0, 0}},
		},
		{
			name: "bitfield that would straddle its unit moves on",
			src:  "struct c {\n\t__u8 a: 6;\n\t__u8 b: 4;\n};\n",
			tag:  "struct c", size: 2,
			want: []member{{"a", 0, 1, 6, 0}, {"b", 1, 1, 4, 0}},
		},
		{
			name: "enum member",
			src:  "enum k {\n\tK_A = 0,\n};\n\nstruct d {\n\t__u8 a;\n\tenum k kind;\n};\n",
			tag:  "struct d", size: 8,
			want: []member{{"a", 0, 1, 0, 0}, {"kind", 4, 4, 0, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size, got := members(t, tt.src, tt.tag)
			qt.Check(t, qt.Equals(size, tt.size))
			qt.Check(t, qt.DeepEquals(got, tt.want))
		})
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	tests := []struct{ src, want string }{
		{"struct a {\n\tfoo x;\n};\n", "line 7: unknown type \"foo\""},
		{"struct a {\n\t__u32 x\n};\n", "line 8: expected \";\""},
		{"struct a {\n\t__u32 x[n];\n};\n", "line 7: array length"},
		{"enum {\n\tA = zz,\n};\n", "enum value A"},
		{"int x;\n", "unexpected \"int\" at top level"},
		{"struct a {\n\t__u32 x;\n", "unterminated"},
		{"/* open", "unterminated comment"},
		{"#define BPF_X (1 << 2 << 3)\n", "unsupported #define"},
		{"struct a {\n\t__u32 x: 40;\n};\n", "line 7: bad bitfield"},
	}
	for _, tt := range tests {
		_, err := parseHeader(prelude + tt.src)
		if qt.Check(t, qt.IsNotNil(err), qt.Commentf("%q", tt.src)) {
			qt.Check(t, qt.StringContains(err.Error(), tt.want), qt.Commentf("%q", tt.src))
		}
	}
}

func TestDefines(t *testing.T) {
	h, err := parseHeader("#ifndef G\n#define G\n#define BPF_A 0x10\n#define BPF_B (1U << 5)\n#define BPF_C 16U\n#endif\n")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fmt.Sprint(h.defines), "[{BPF_A 16 0x10} {BPF_B 32 (1U << 5)} {BPF_C 16 16U}]"))
}

func TestCamel(t *testing.T) {
	for in, want := range map[string]string{
		"map_fd": "MapFd", "btf_vmlinux_value_type_id": "BtfVmlinuxValueTypeId",
		"ifindex": "Ifindex", "link_create_flags": "LinkCreateFlags", "__x": "X",
	} {
		qt.Check(t, qt.Equals(camel(in), want))
	}
}

// FuzzParseHeader makes sure no input makes the parser or the layout
// panic or loop.
func FuzzParseHeader(f *testing.F) {
	src, err := os.ReadFile(headerPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(src))
	f.Add(prelude + "struct a {\n\t__u32 x: 3;\n\tunion {\n\t\t__u64 y;\n\t};\n};\n")
	f.Fuzz(func(t *testing.T, src string) {
		h, err := parseHeader(src)
		if err != nil {
			return
		}
		for _, typ := range h.structs {
			if err := layout(typ); err != nil && !strings.Contains(err.Error(), "empty") && !strings.Contains(err.Error(), "without size") && !strings.Contains(err.Error(), "contains itself") {
				t.Fatal(err)
			}
		}
	})
}

func TestLayoutRejectsRecursion(t *testing.T) {
	h, err := parseHeader("struct a {\n\tstruct a x;\n};\n")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.ErrorMatches(layout(h.structs["struct a"]), `"a" contains itself`))
}
