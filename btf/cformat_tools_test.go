package btf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

// Tests of CFormatter against the tools: bpftool's header of the same BTF,
// and clang-19 compiling ours.

// bpftoolHeaderFormatter formats like `bpftool btf dump file X format c`.
var bpftoolHeaderFormatter = CFormatter{Guard: "__VMLINUX_H__", PreserveAccessIndex: true}

func formatHeader(tb testing.TB, cf *CFormatter, file string) string {
	tb.Helper()
	spec, err := LoadSpec(file)
	qt.Assert(tb, qt.IsNil(err))
	var buf bytes.Buffer
	qt.Assert(tb, qt.IsNil(cf.WriteSpec(&buf, spec)))
	return buf.String()
}

// cHeaderAttributes matches what our header adds to bpftool 7.1's (libbpf
// 1.1's): decl tags, and what gives enums their size and signedness where
// C's defaults don't (mode attributes, a fixed underlying type).
var cHeaderAttributes = regexp.MustCompile(` __attribute__\(\(btf_decl_tag\("(?:[^"\\]|\\.)*"\)\)\)| __attribute__\(\(mode\((?:byte|word)\)\)\)| : (?:unsigned |signed )?(?:char|short|int|long long) \{`)

// cLayoutRepairs matches what makes a layout: packed attributes and
// padding bitfields.
var cLayoutRepairs = regexp.MustCompile(` __attribute__\(\(packed\)\)|\n\t+(?:long|int|short|char): \d+;`)

// declStats says how the declarations of two headers compared.
type declStats struct {
	// identical declarations, equal once our extra attributes are
	// removed, and where we repaired a layout that libbpf gets wrong.
	identical, attributes, repaired int
	repairs                         []string
}

// compareDeclarations compares two headers declaration by declaration. A
// declaration is a chunk of text between blank lines: one type
// definition, forward declaration or preprocessor block. The headers are
// equal when they hold the same declarations as a multiset (the order may
// differ), in three rounds: identical text; then ours with the attributes
// libbpf 1.1 doesn't write removed; then, for the rest, both without
// packed attributes and padding: that is allowed only where we repair a
// layout libbpf gets wrong (a va_list member, whose size differs between
// the kernel's ABI and BPF; a packed union), which TestCFormatCompiles
// proves right.
func compareDeclarations(tb testing.TB, ours, theirs string) declStats {
	tb.Helper()
	split := func(s string) []string {
		return strings.Split(strings.TrimSpace(s), "\n\n")
	}
	var st declStats
	left := split(ours)
	right := split(theirs)
	// match removes the declarations whose key (after norm) is on both
	// sides and returns the matched ones of ours.
	match := func(normOurs, normTheirs func(string) string) []string {
		pool := map[string][]int{}
		for i, d := range right {
			k := normTheirs(d)
			pool[k] = append(pool[k], i)
		}
		usedRight := map[int]bool{}
		var keep, matched []string
		for _, d := range left {
			k := normOurs(d)
			if idx := pool[k]; len(idx) > 0 {
				usedRight[idx[0]] = true
				pool[k] = idx[1:]
				matched = append(matched, d)
				continue
			}
			keep = append(keep, d)
		}
		var keepRight []string
		for i, d := range right {
			if !usedRight[i] {
				keepRight = append(keepRight, d)
			}
		}
		left, right = keep, keepRight
		return matched
	}
	same := func(s string) string { return s }
	withoutAttributes := func(s string) string {
		return cHeaderAttributes.ReplaceAllStringFunc(s, func(m string) string {
			if strings.HasSuffix(m, "{") {
				return " {"
			}
			return ""
		})
	}
	withoutLayout := func(s string) string { return cLayoutRepairs.ReplaceAllString(withoutAttributes(s), "") }
	st.identical = len(match(same, same))
	st.attributes = len(match(withoutAttributes, same))
	for _, d := range match(withoutLayout, func(s string) string { return cLayoutRepairs.ReplaceAllString(s, "") }) {
		first, _, _ := strings.Cut(d, "\n")
		if !strings.Contains(d, "va_list ") && !(strings.Contains(d, "union") && strings.Contains(d, "__attribute__((packed))")) {
			tb.Errorf("layout differs from bpftool's without a known reason:\n%s", d)
		}
		st.repairs = append(st.repairs, first)
	}
	st.repaired = len(st.repairs)
	if len(left) > 0 || len(right) > 0 {
		tb.Fatalf("%d declarations only bpftool has, %d only we have; first ones:\nbpftool:\n%s\nours:\n%s",
			len(right), len(left), strings.Join(right[:min(3, len(right))], "\n\n"), strings.Join(left[:min(3, len(left))], "\n\n"))
	}
	return st
}

// TestCFormatMatchesBpftool compares our header with bpftool's for every
// test object, the running kernel and the VM tests' Debian kernels.
func TestCFormatMatchesBpftool(t *testing.T) {
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("bpftool not installed")
	}
	type input struct{ name, file string }
	var inputs []input
	for _, file := range testdataObjects(t) {
		inputs = append(inputs, input{filepath.Base(file), file})
	}
	for _, k := range testKernels(t) {
		inputs = append(inputs, input{"kernel " + k.Name, k.File})
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			want, err := exec.Command(bpftool, "btf", "dump", "file", in.file, "format", "c").Output()
			qt.Assert(t, qt.IsNil(err))
			got := formatHeader(t, &bpftoolHeaderFormatter, in.file)
			st := compareDeclarations(t, got, string(want))
			t.Logf("%s: %d declarations identical, %d after removing our decl tags and enum sizes, %d with a layout bpftool gets wrong %q",
				in.name, st.identical, st.attributes, st.repaired, st.repairs)
		})
	}
}

// clang returns the path of clang-19 or skips the test.
func clang(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("clang-19")
	if err != nil {
		tb.Skip("clang-19 not installed")
	}
	return path
}

func runClang(tb testing.TB, dir string, args ...string) {
	tb.Helper()
	cmd := exec.Command(clang(tb), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("clang-19 %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestCFormatCompiles compiles the header of each kernel (with kfunc
// prototypes) and of each test object with clang-19, and checks that the
// compiler lays the types out as BTF says. A static assertion per named
// struct and union checks its size and the offset of every named member
// that is not a bitfield, one per enum its size and signedness. For the
// test objects, whose types are few, clang's own BTF of every named type
// is also compared with the original: bitfields, enum values and member
// types included.
func TestCFormatCompiles(t *testing.T) {
	clang(t)
	var inputs []string
	objects := map[string]bool{}
	for _, file := range testdataObjects(t) {
		inputs = append(inputs, file)
		objects[file] = true
	}
	for _, k := range testKernels(t) {
		inputs = append(inputs, k.File)
	}
	for _, file := range inputs {
		t.Run(filepath.Base(file), func(t *testing.T) {
			spec, err := LoadSpec(file)
			qt.Assert(t, qt.IsNil(err))
			cf := CFormatter{Guard: "__VMLINUX_H__", PreserveAccessIndex: true, Kfuncs: true}
			var header bytes.Buffer
			qt.Assert(t, qt.IsNil(cf.WriteSpec(&header, spec)))

			// Types whose name is unique: a duplicate is renamed
			// foo___2 in the header. Structs, unions and enums share
			// C's tag namespace.
			names := map[string]int{}
			var types []Type
			for typ, err := range spec.All() {
				qt.Assert(t, qt.IsNil(err))
				switch v := typ.(type) {
				case *Struct, *Union:
				case *Enum:
					if len(v.Values) == 0 {
						continue
					}
				default:
					continue
				}
				if typ.TypeName() != "" {
					names[typ.TypeName()]++
					types = append(types, typ)
				}
			}
			var src strings.Builder
			src.WriteString("#include \"vmlinux.h\"\n")
			var checked []Type
			asserts := 0
			for _, typ := range types {
				if names[typ.TypeName()] > 1 {
					continue
				}
				checked = append(checked, typ)
				decl := kindWord(typ) + " " + typ.TypeName()
				assert := func(format string, args ...any) {
					fmt.Fprintf(&src, "_Static_assert(%s, %q);\n", fmt.Sprintf(format, args...), decl)
					asserts++
				}
				switch v := typ.(type) {
				case *Enum:
					assert("sizeof(%s) == %d", decl, v.Size)
					assert("(((%s)-1) < 0) == %d", decl, b2u(v.Signed))
				default:
					size, err := Sizeof(typ)
					qt.Assert(t, qt.IsNil(err))
					assert("sizeof(%s) == %d", decl, size)
					members, _ := compositeMembers(typ)
					for _, m := range members {
						if m.Name != "" && m.BitfieldSize == 0 {
							assert("__builtin_offsetof(%s, %s) == %d", decl, m.Name, m.Offset/8)
						}
					}
				}
			}
			dir := t.TempDir()
			qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, "vmlinux.h"), header.Bytes(), 0o644)))
			qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, "layout.c"), []byte(src.String()), 0o644)))
			// A header without structs leaves the pragma unused.
			runClang(t, dir, "-target", "bpfel", "-O2", "-Wall", "-Werror", "-Wno-pragma-clang-attribute", "-c", "layout.c", "-o", "layout.o")
			t.Logf("%d types, %d layout assertions hold", len(checked), asserts)
			if !objects[file] || len(checked) == 0 {
				return
			}

			var vars strings.Builder
			vars.WriteString("#include \"vmlinux.h\"\n")
			for i, typ := range checked {
				fmt.Fprintf(&vars, "%s %s bpfkit_v%d;\n", kindWord(typ), typ.TypeName(), i)
			}
			qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, "vars.c"), []byte(vars.String()), 0o644)))
			runClang(t, dir, "-target", "bpfel", "-g", "-O2", "-Wall", "-Werror", "-c", "vars.c", "-o", "vars.o")
			compiled, err := LoadSpec(filepath.Join(dir, "vars.o"))
			qt.Assert(t, qt.IsNil(err))
			byName := map[string]Type{}
			for typ, err := range compiled.All() {
				qt.Assert(t, qt.IsNil(err))
				if _, ok := typ.(*Fwd); !ok && typ.TypeName() != "" {
					byName[kindWord(typ)+" "+typ.TypeName()] = typ
				}
			}
			for _, typ := range checked {
				got := byName[kindWord(typ)+" "+typ.TypeName()]
				qt.Assert(t, qt.IsNotNil(got), qt.Commentf("%s", typ))
				qt.Assert(t, qt.DeepEquals(layoutOf(got), layoutOf(typ)), qt.Commentf("%s", typ))
			}
		})
	}
}

// layoutOf describes what a header must reproduce of a type: size and
// members (name, offset, bitfield size, the member type's kind and name)
// or enum values. Unnamed bitfields are padding: C doesn't keep them.
func layoutOf(t Type) []string {
	var out []string
	member := func(m Member) {
		if m.Name == "" && m.BitfieldSize > 0 {
			return
		}
		// clang drops qualifiers of anonymous members.
		mt := QualifiedType(m.Type)
		typ := fmt.Sprintf("%s %q", kindName(mt), mt.TypeName())
		if i, ok := mt.(*Int); ok {
			// clang names base types its own way: "unsigned long"
			// for GCC's "long unsigned int".
			typ = fmt.Sprintf("Int size %d %s", i.Size, i.Encoding)
		}
		out = append(out, fmt.Sprintf("%s@%d:%d %s", m.Name, m.Offset, m.BitfieldSize, typ))
	}
	switch v := t.(type) {
	case *Struct:
		out = append(out, fmt.Sprintf("struct size %d", v.Size))
		for _, m := range v.Members {
			member(m)
		}
	case *Union:
		out = append(out, fmt.Sprintf("union size %d", v.Size))
		for _, m := range v.Members {
			member(m)
		}
	case *Enum:
		out = append(out, fmt.Sprintf("enum size %d signed %t", v.Size, v.Signed))
		for _, ev := range v.Values {
			out = append(out, fmt.Sprintf("%s=%d", ev.Name, ev.Value))
		}
	}
	return out
}

// kernelDefinition matches the first line of a hand-written definition of
// a kernel type in a test object: "struct task_struct {", closed by
// "} __core;".
var kernelDefinition = regexp.MustCompile(`^(struct|union) (\w+) \{$`)

// withHeaderTypes returns the C source of a test object with the
// definitions of kernel types (those ending in "} __core;") that the
// header defines removed, replaced by as many empty lines.
func withHeaderTypes(src, header string) string {
	lines := strings.Split(src, "\n")
	skipping := false
	for i, l := range lines {
		if m := kernelDefinition.FindStringSubmatch(l); m != nil && strings.Contains(header, "\n"+m[1]+" "+m[2]+" {\n") {
			skipping = true
		}
		if skipping {
			lines[i] = ""
			skipping = !strings.HasPrefix(l, "} __core;")
		}
	}
	return strings.Join(lines, "\n")
}

// coreResult is one relocation's outcome against a kernel, described
// without local type IDs and access strings, which differ between builds.
type coreResult struct {
	section, kind, what string
	poison              bool
	target              uint64
	unchanged           bool
}

func (r coreResult) String() string {
	return fmt.Sprintf("%s: %s of %s -> poison=%t target=%d", r.section, r.kind, r.what, r.poison, r.target)
}

func coreResults(tb testing.TB, file string, kernel *Spec) []coreResult {
	tb.Helper()
	f, err := os.Open(file)
	qt.Assert(tb, qt.IsNil(err))
	defer f.Close()
	spec, ext, err := LoadSpecAndExtInfosFromReader(f)
	qt.Assert(tb, qt.IsNil(err))
	var out []coreResult
	for _, sec := range slices.Sorted(maps.Keys(ext.CORERelos)) {
		for _, ro := range ext.CORERelos[sec] {
			relo := ro.Relo
			fixups, err := CORERelocate([]*CORERelocation{relo}, []*Spec{kernel}, binary.LittleEndian, spec.TypeID)
			qt.Assert(tb, qt.IsNil(err), qt.Commentf("%s", relo))
			fix := fixups[0]
			what := kindWord(relo.typ) + " " + relo.typ.TypeName()
			if acc, err := parseCOREAccess(relo.typ, relo.accessor, relo.kind); err == nil {
				what += acc.path()
			}
			r := coreResult{section: sec, kind: relo.kind.String(), what: what, poison: fix.poison, target: fix.target,
				unchanged: !fix.poison && fix.target == fix.local}
			if relo.kind == coreTypeIdLocal {
				r.target = 0
			}
			out = append(out, r)
		}
	}
	return out
}

// TestCFormatBuildsCOREObjects builds every test object with CO-RE
// relocations against the header of each kernel instead of its
// hand-written kernel types, and relocates both builds against that
// kernel: every relocation of the committed object has its twin in the
// header build, with the same result. The header build has more
// relocations (the header marks every struct preserve_access_index, UAPI
// context structs included); those must leave their instructions as they
// are.
//
// type_matches is the exception: it compares the whole local type, and
// clang names the integer types of a header's full struct its own way
// ("unsigned long" for the kernel's "long unsigned int"), so the kernel's
// task_struct does not match the header's, as libbpf decides too; the
// committed objects' minimal definitions do match. Its result is not
// compared.
func TestCFormatBuildsCOREObjects(t *testing.T) {
	clang(t)
	var objects []string
	for _, file := range testdataObjects(t) {
		if !strings.HasSuffix(file, "-el.elf") {
			continue
		}
		f, err := os.Open(file)
		qt.Assert(t, qt.IsNil(err))
		_, ext, err := LoadSpecAndExtInfosFromReader(f)
		f.Close()
		qt.Assert(t, qt.IsNil(err))
		if ext != nil && len(ext.CORERelos) > 0 {
			objects = append(objects, strings.TrimSuffix(filepath.Base(file), "-el.elf"))
		}
	}
	qt.Assert(t, qt.Not(qt.HasLen(objects, 0)))

	for _, k := range testKernels(t) {
		t.Run(k.Name, func(t *testing.T) {
			kernel, err := LoadSpec(k.File)
			qt.Assert(t, qt.IsNil(err))
			cf := CFormatter{Guard: "__VMLINUX_H__", PreserveAccessIndex: true, Kfuncs: true}
			var header bytes.Buffer
			qt.Assert(t, qt.IsNil(cf.WriteSpec(&header, kernel)))

			dir := t.TempDir()
			qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, "vmlinux.h"), header.Bytes(), 0o644)))
			common, err := os.ReadFile("../testdata/common.h")
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, "common.h"), common, 0o644)))
			for _, name := range objects {
				src, err := os.ReadFile(filepath.Join("../testdata", name+".c"))
				qt.Assert(t, qt.IsNil(err))
				qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, name+".c"), []byte(withHeaderTypes(string(src), header.String())), 0o644)))
				runClang(t, dir, "-target", "bpfel", "-O2", "-g", "-mcpu=v3", "-nostdinc", "-I.",
					"-DBPFKIT_VMLINUX_H", "-include", "vmlinux.h",
					"-Wall", "-Werror", "-Wno-unused-function", "-Wno-unused-variable",
					"-c", name+".c", "-o", name+".o")

				committed := coreResults(t, filepath.Join("../testdata", name+"-el.elf"), kernel)
				built := coreResults(t, filepath.Join(dir, name+".o"), kernel)
				remaining := slices.Clone(built)
				for _, want := range committed {
					i := slices.IndexFunc(remaining, func(r coreResult) bool {
						return r.section == want.section && r.kind == want.kind && r.what == want.what &&
							(r.poison == want.poison && r.target == want.target || r.kind == "type_matches")
					})
					qt.Assert(t, qt.Not(qt.Equals(i, -1)), qt.Commentf("%s: %s not in the header build:\n%v", name, want, built))
					remaining = slices.Delete(remaining, i, i+1)
				}
				for _, extra := range remaining {
					qt.Assert(t, qt.IsTrue(extra.unchanged), qt.Commentf("%s: extra relocation %s", name, extra))
				}
				t.Logf("%s: %d relocations as committed, %d more on UAPI types, unchanged", name, len(committed), len(remaining))
			}
		})
	}
}
