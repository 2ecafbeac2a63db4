package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
)

func regexpQuote(s string) string { return regexp.QuoteMeta(s) }

const minimalC = `//go:build ignore
__attribute__((section("socket"), used)) int prog(void *ctx) { return 0; }
char _license[] __attribute__((section("license"), used)) = "GPL";
`

// bpf2go runs the command in dir with GOPACKAGE set and returns its
// error, stdout and stderr.
func bpf2go(t *testing.T, dir string, args ...string) (error, string, string) {
	t.Helper()
	t.Chdir(dir)
	t.Setenv("GOPACKAGE", "main")
	var stdout, stderr bytes.Buffer
	err := run(&stdout, &stderr, args)
	return err, stdout.String(), stderr.String()
}

func TestCompilerMissing(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.c"), minimalC)
	t.Setenv("PATH", dir)
	os.Unsetenv("BPF2GO_CC")
	err, _, _ := bpf2go(t, dir, "bpf", "p.c")
	qt.Assert(t, qt.ErrorMatches(err, `no clang in \$PATH \(tried clang, clang-30, .*clang-19, .*clang-14\): .*-cc or \$BPF2GO_CC`))

	err, _, _ = bpf2go(t, dir, "-cc", "my-clang", "bpf", "p.c")
	qt.Assert(t, qt.ErrorMatches(err, `C compiler "my-clang" \(from -cc or \$BPF2GO_CC\): .*not found.*`))
}

func TestStripMissing(t *testing.T) {
	needTools(t, clang)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.c"), minimalC)
	err, _, _ := bpf2go(t, dir, "-cc", clang, "-strip", "no-such-strip", "bpf", "p.c")
	qt.Assert(t, qt.ErrorMatches(err, `strip tool "no-such-strip".*`))
	qt.Assert(t, qt.IsNil(findStripErr(t, "clang-999")), qt.Commentf("falls back to llvm-strip"))
}

func findStripErr(t *testing.T, cc string) error {
	needTools(t, "llvm-strip")
	_, err := findStrip("", "/usr/bin/"+cc, nil)
	return err
}

func TestCompilerFails(t *testing.T) {
	needTools(t, clang)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bad.c"), "//go:build ignore\nint f(void) { return undeclared_thing; }\n")
	err, _, _ := bpf2go(t, dir, "-cc", clang, "bpf", "bad.c")
	qt.Assert(t, qt.ErrorMatches(err, `(?s)target bpfeb: compile .*bad.c: .*clang-19: exit status 1:\n.*bad.c:2:.*undeclared_thing.*`))
	_, statErr := os.Stat(filepath.Join(dir, "bpf_bpfeb.o"))
	qt.Assert(t, qt.ErrorIs(statErr, os.ErrNotExist))
}

func TestTypeMissing(t *testing.T) {
	needTools(t, clang)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.c"), minimalC)
	err, _, _ := bpf2go(t, dir, "-cc", clang, "-type", "no_such_type", "bpf", "p.c")
	qt.Assert(t, qt.ErrorMatches(err, `target bpfeb: -type no_such_type: no type of that name in the BTF of bpf_bpfeb.o`))
}

func TestTargetsAndOutputs(t *testing.T) {
	needTools(t, clang)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.c"), minimalC)
	out := filepath.Join(dir, "out")
	qt.Assert(t, qt.IsNil(os.Mkdir(out, 0o755)))
	// An older bpf2go's name for the x86 target, removed on the way.
	writeFile(t, filepath.Join(out, "prog_bpfel_x86.go"), "package main\n")
	err, stdout, _ := bpf2go(t, dir, "-cc", clang, "-target", "bpf,amd64,arm64", "-tags", "linux",
		"-output-dir", "out", "-output-stem", "prog", "-output-suffix", "_test", "-go-package", "other", "-verbose",
		"Prog", "p.c")
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.StringContains(stdout, "removed obsolete"))
	ents, err := os.ReadDir(out)
	qt.Assert(t, qt.IsNil(err))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	qt.Assert(t, qt.DeepEquals(names, []string{
		"prog_arm64_bpfel_test.go", "prog_arm64_bpfel_test.o",
		"prog_bpf_test.go", "prog_bpf_test.o",
		"prog_x86_bpfel_test.go", "prog_x86_bpfel_test.o",
	}))
	for name, build := range map[string]string{
		"prog_bpf_test.go":         "//go:build linux\n",
		"prog_x86_bpfel_test.go":   "//go:build (386 || amd64) && linux\n",
		"prog_arm64_bpfel_test.go": "//go:build arm64 && linux\n",
	} {
		src := readFile(t, filepath.Join(out, name))
		qt.Check(t, qt.StringContains(src, build), qt.Commentf(name))
		qt.Check(t, qt.StringContains(src, "package other\n"))
		qt.Check(t, qt.StringContains(src, "func LoadProgObjects("))
		qt.Check(t, qt.StringContains(src, "type ProgPrograms struct {\n\tProg *ebpf.Program `ebpf:\"prog\"`\n}"))
		qt.Check(t, qt.IsFalse(strings.Contains(src, `"structs"`)), qt.Commentf("no types, no structs import"))
	}
}

// TestMakebase checks the dependency file: the Go file depends on the
// source and its headers, with paths relative to -makebase, and every
// header gets an empty rule.
func TestMakebase(t *testing.T) {
	needTools(t, clang)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "inc", "defs.h"), "#define RET 0\n")
	writeFile(t, filepath.Join(dir, "src", "p.c"), `//go:build ignore
#include "defs.h"
__attribute__((section("socket"), used)) int prog(void *ctx) { return RET; }
`)
	err, _, _ := bpf2go(t, filepath.Join(dir, "src"), "-cc", clang, "-target", "bpfel", "-makebase", dir, "bpf", "p.c", "--", "-I../inc")
	qt.Assert(t, qt.IsNil(err))
	got := readFile(t, filepath.Join(dir, "src", "bpf_bpfel.go.d"))
	qt.Assert(t, qt.Equals(got, "src/bpf_bpfel.go: \\\n src/p.c \\\n inc/defs.h\n\ninc/defs.h:\n\n"))
}

func TestParseDependencies(t *testing.T) {
	in := "/out/x.o: a.c \\\n  /abs/b.h \\\n c.h\n\n/abs/b.h:\nc.h:\n"
	deps, err := parseDependencies("/work", strings.NewReader(in))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.CmpEquals(deps, []dependency{
		{"/out/x.o", []string{"/work/a.c", "/abs/b.h", "/work/c.h"}},
		{"/abs/b.h", nil},
		{"/work/c.h", nil},
	}, cmp.AllowUnexported(dependency{})))
	_, err = parseDependencies("/", strings.NewReader("no colon\n"))
	qt.Assert(t, qt.ErrorMatches(err, "dependency line without a colon.*"))
	_, err = parseDependencies("/", strings.NewReader("\n\n"))
	qt.Assert(t, qt.ErrorMatches(err, "no dependencies.*"))
	_, err = parseDependencies("/", strings.NewReader(strings.Repeat("x \\\n", maxDepLine/2)))
	qt.Assert(t, qt.ErrorMatches(err, "dependency line too long"))
}
