package main

import (
	"encoding/binary"
	"encoding/json"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

func TestShowText(t *testing.T) {
	file := object("bpfobj_default")
	out, stderr, code := bpfobj(t, "show", file)
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
	qt.Assert(t, qt.Equals(stderr, ""))
	qt.Assert(t, qt.StringContains(out, file+": little-endian, BTF, 3 maps, 2 programs, 2 variables"))
	assertRows(t, out,
		[]string{"MAP", "TYPE", "KEY", "VALUE", "MAX", "ENTRIES", "FLAGS", "PINNING"},
		[]string{".bss", "Array", "4", "8", "datasec", ".bss", "1", "-", "none"},
		[]string{".data", "Array", "4", "4", "datasec", ".data", "1", "-", "none"},
		[]string{"packets", "Array", "4", "__u32", "8", "__u64", "1", "-", "none"},
		[]string{"PROGRAM", "SECTION", "TYPE", "ATTACH", "TARGET", "INSNS", "LICENSE", "MAPS"},
		[]string{"socket_count", "socket", "SocketFilter", "-", "-", "28", "GPL", ".bss", ".data", "packets"},
		[]string{"xdp_count", "xdp", "XDP", "AttachXDP", "-", "29", "GPL", ".bss", ".data", "packets"},
		[]string{"socket_count:", "calls", "count"},
		[]string{"VARIABLE", "SECTION", "OFFSET", "SIZE", "TYPE", "VALUE"},
		[]string{"bytes", ".bss", "0", "8", "__u64", "0"},
		[]string{"runs", ".data", "0", "4", "__u32", "100"},
	)
	// Sections come in a fixed order, rows sorted by name.
	qt.Assert(t, qt.IsTrue(strings.Index(out, "MAP ") < strings.Index(out, "PROGRAM ")))
	qt.Assert(t, qt.IsTrue(strings.Index(out, "PROGRAM ") < strings.Index(out, "VARIABLE ")))
	qt.Assert(t, qt.IsTrue(strings.Index(out, "\nsocket_count ") < strings.Index(out, "\nxdp_count ")))

	// The output is deterministic.
	again, _, _ := bpfobj(t, file)
	qt.Assert(t, qt.Equals(again, out))
}

func TestShowJSON(t *testing.T) {
	file := object("bpfobj_default")
	r, stderr, code := bpfobjJSON(t, "show", file)
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
	qt.Assert(t, qt.IsNil(r.Load))
	qt.Assert(t, qt.IsNil(r.Run))

	section := func(name string, size uint32, value string) *Map {
		return &Map{Name: name, Type: "Array", KeySize: 4, ValueSize: size, ValueType: "datasec " + name,
			MaxEntries: 1, Pinning: "none", Section: true, Contents: []*Entry{{Key: "0", Value: value, ValueHex: value}}}
	}
	program := func(name, section, typ, attach string, insns int) *Program {
		return &Program{Name: name, Section: section, Type: typ, AttachType: attach, Instructions: insns,
			License: "GPL", Maps: []string{".bss", ".data", "packets"}, Functions: []string{"count"}}
	}
	want := &Object{
		File:      file,
		ByteOrder: "little-endian",
		BTF:       true,
		Maps: []*Map{
			section(".bss", 8, "0000000000000000"),
			section(".data", 4, "64000000"),
			{Name: "packets", Type: "Array", KeySize: 4, ValueSize: 8, KeyType: "__u32", ValueType: "__u64",
				MaxEntries: 1, Pinning: "none"},
		},
		Programs: []*Program{
			program("socket_count", "socket", "SocketFilter", "", 28),
			program("xdp_count", "xdp", "XDP", "AttachXDP", 29),
		},
		Variables: []*Variable{
			{Name: "bytes", Section: ".bss", Size: 8, Type: "__u64", Value: "0", Hex: "0000000000000000"},
			{Name: "runs", Section: ".data", Size: 4, Type: "__u32", Value: "100", Hex: "64000000"},
		},
	}
	if isBigEndian(binary.NativeEndian) {
		want.ByteOrder = "big-endian"
		want.Maps[1].Contents[0].Value = "00000064"
		want.Maps[1].Contents[0].ValueHex = "00000064"
		want.Variables[1].Hex = "00000064"
	}
	qt.Assert(t, qt.CmpEquals(r.Object, want))
}

func TestShowDisassembly(t *testing.T) {
	out, _, code := bpfobj(t, "show", "-d", object("bpfobj_default"))
	qt.Assert(t, qt.Equals(code, exitOK))
	for _, want := range []string{
		"DISASSEMBLY xdp_count\nxdp_count:\n\t; bpfobj_default.c:46: count(ctx->data_end - ctx->data);\n     0: LdXMemW dst: r2 src: r1 off: 0\n",
		"\t; bpfobj_default.c:47: return XDP_PASS;\n     4: MovImm32 dst: r0 imm: 2\n     5: Exit\ncount:\n",
		"\t; bpfobj_default.c:35: __u64 *n = bpf_map_lookup_elem(&packets, &key);\n    11: LoadMapPtr dst: r1 fd: 0 <packets>\n    13: Call FnMapLookupElem\n",
		"DISASSEMBLY socket_count\nsocket_count:\n",
	} {
		qt.Check(t, qt.StringContains(out, want))
	}

	r, _, code := bpfobjJSON(t, "show", "-d", object("bpfobj_default"))
	qt.Assert(t, qt.Equals(code, exitOK))
	xdp := r.Object.Programs[1]
	qt.Assert(t, qt.Equals(xdp.Name, "xdp_count"))
	qt.Assert(t, qt.HasLen(xdp.Disassembly, 26))
	qt.Assert(t, qt.DeepEquals(xdp.Disassembly[:2], []*Instruction{
		{Offset: 0, Function: "xdp_count", Source: "bpfobj_default.c:46: count(ctx->data_end - ctx->data);", Text: "LdXMemW dst: r2 src: r1 off: 0"},
		{Offset: 1, Text: "LdXMemW dst: r1 src: r1 off: 4"},
	}))
	// The last slot plus one is the instruction count (ldimm64 takes two).
	last := xdp.Disassembly[len(xdp.Disassembly)-1]
	qt.Assert(t, qt.Equals(last.Offset+1, xdp.Instructions))
}

func TestShowTypes(t *testing.T) {
	out, _, code := bpfobj(t, "show", "-types", object("globals"))
	qt.Assert(t, qt.Equals(code, exitOK))
	for _, want := range []string{
		"// struct pair\ntype Pair struct {",
		"// datasec .rodata\ntype SectionRodata struct {",
		"// typedef __u32\ntype U32 uint32\n",
	} {
		qt.Check(t, qt.StringContains(out, want))
	}
	// The declarations are valid Go.
	src := "package p\n\nimport \"structs\"\n\nvar _ structs.HostLayout\n\n" + out[strings.Index(out, "// Go declarations"):]
	_, err := parser.ParseFile(token.NewFileSet(), "types.go", src, parser.AllErrors)
	qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", src))

	r, _, code := bpfobjJSON(t, "show", "-types", object("globals"))
	qt.Assert(t, qt.Equals(code, exitOK))
	i := slices.IndexFunc(r.Object.Types, func(gt *GoType) bool { return gt.Name == ".data" })
	qt.Assert(t, qt.Not(qt.Equals(i, -1)))
	qt.Assert(t, qt.Equals(r.Object.Types[i].Kind, "datasec"))
	qt.Assert(t, qt.StringContains(r.Object.Types[i].Go, "type SectionData struct {"))
}

// Facts about other objects: map flags, pinning, extra, inner maps,
// initial contents, decoded variables of several types.
func TestShowObjects(t *testing.T) {
	for _, tc := range []struct {
		object string
		rows   [][]string
		lines  []string
	}{
		{"maps_btf", [][]string{
			{"lpm", "LPMTrie", "8", "struct", "lpm_key", "4", "__u32", "16", "no_prealloc", "none"},
			{"mmapable", "Array", "4", "__u32", "8", "__u64", "8", "mmapable", "none"},
			{"pinned", "Hash", "4", "__u32", "4", "__u32", "4", "-", "by_name"},
			{"stack_trace", "StackTrace", "4", "__u32", "1016", "__u64[127]", "16"},
			{"bloom:", "map_extra", "0x3"},
		}, nil},
		{"map_values", [][]string{
			{"jump_table[1]", "=", "tail_1"},
			{"outer_array:", "inner", "map", "outer_array_inner:", "Array,"},
			{"outer_hash[3]", "=", "inner_h"},
			{"entry", "tc", "SchedCLS", "-", "-", "6", "GPL", "jump_table"},
		}, nil},
		{"globals", [][]string{
			{"data_pair", ".data", "18", "4", "struct", "pair", "{a:", "7,", "b:", "-7}"},
			{"data_bytes", ".data", "12", "5", "__u8[5]", "[1,", "2,", "3,", "4,", "5]"},
			{"rodata_str", ".rodata", "16", "8", "const", "volatile", "char[8]", `"abc"`},
			{"ret_value", ".rodata", "0", "4", "const", "volatile", "__u32", "7"},
			{".rodata", "Array", "4", "24", "datasec", ".rodata", "1", "rdonly_prog", "none"},
		}, nil},
		{"sections", [][]string{
			{"prog_xdp_a", "xdp", "XDP", "AttachXDP", "-", "6", "Dual", "MIT/GPL", "-"},
		}, []string{"prog_xdp_a: calls shared"}},
		{"link_tracing", [][]string{
			{"on_fentry", "fentry/bpf_fentry_test1", "Tracing", "AttachTraceFEntry", "bpf_fentry_test1", "6", "GPL", ".bss"},
		}, nil},
	} {
		t.Run(tc.object, func(t *testing.T) {
			out, stderr, code := bpfobj(t, "show", object(tc.object))
			qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
			assertRows(t, out, tc.rows...)
			for _, l := range tc.lines {
				qt.Check(t, qt.StringContains(out, l))
			}
		})
	}
}

// Every test object, in both byte orders, with every show flag: shown, or
// refused with a message (exit 1), never a crash; and -json always gives a
// document.
func TestShowAllTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "*.elf"))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Not(qt.HasLen(files, 0)))
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, stderr, code := bpfobj(t, "show", "-d", "-types", file)
			switch code {
			case exitOK:
				qt.Assert(t, qt.StringContains(out, file+": "))
			case exitFailure:
				// Only objects broken on purpose may fail: err_*, elf_err_*,
				// and objlink_a, which reads only once linked.
				if base := filepath.Base(file); !strings.HasPrefix(base, "objlink_a-") {
					qt.Assert(t, qt.StringContains(base, "err_"), qt.Commentf("stderr: %s", stderr))
				}
				qt.Assert(t, qt.StringContains(stderr, "read "+file))
			default:
				t.Fatalf("exit status %d, stderr: %s", code, stderr)
			}
			r, _, jcode := bpfobjJSON(t, "show", "-d", "-types", file)
			qt.Assert(t, qt.Equals(jcode, code))
			if code == exitOK {
				qt.Assert(t, qt.Equals(r.Object.File, file))
			} else {
				qt.Assert(t, qt.Not(qt.Equals(r.Error, "")))
			}
		})
	}
}

func TestShowBigEndianObject(t *testing.T) {
	file := filepath.Join("..", "..", "testdata", "bpfobj_default-eb.elf")
	if isBigEndian(binary.NativeEndian) {
		file = filepath.Join("..", "..", "testdata", "bpfobj_default-el.elf")
	}
	r, _, code := bpfobjJSON(t, "show", file)
	qt.Assert(t, qt.Equals(code, exitOK))
	// Values are decoded in the object's byte order, not the host's.
	runs := r.Object.Variables[1]
	qt.Assert(t, qt.Equals(runs.Name, "runs"))
	qt.Assert(t, qt.Equals(runs.Value, "100"))
}

func TestGoldenJSONSchemaStable(t *testing.T) {
	// Field names are API for scripts: a renamed tag fails here.
	r, _, code := bpfobjJSON(t, "show", object("bpfobj_default"))
	qt.Assert(t, qt.Equals(code, exitOK))
	b, err := json.Marshal(r)
	qt.Assert(t, qt.IsNil(err))
	var generic map[string]map[string]any
	qt.Assert(t, qt.IsNil(json.Unmarshal(b, &generic)))
	keys := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	qt.Assert(t, qt.DeepEquals(keys(generic["object"]), []string{"btf", "byte_order", "file", "maps", "programs", "variables"}))
	prog := generic["object"]["programs"].([]any)[1].(map[string]any)
	qt.Assert(t, qt.DeepEquals(keys(prog), []string{"attach_type", "functions", "instructions", "license", "maps", "name", "section", "type"}))
}
