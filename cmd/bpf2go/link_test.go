package main

import (
	"path/filepath"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
)

// Two C files make one object: main.c calls a function and reads a map
// and a variable that lib.c defines.
const (
	linkMainC = `//go:build ignore
#include "defs.h"
extern int lib_add(int x);
extern int lib_value;
extern struct {
	int (*type)[2];
	int (*max_entries)[1];
	unsigned int *key;
	unsigned long long *value;
} lib_map __attribute__((section(".maps")));
__attribute__((section("socket"), used)) int prog(void *ctx) {
	unsigned int k = 0;
	return lib_add(lib_value) + (&lib_map != 0);
}
char _license[] __attribute__((section("license"), used)) = "GPL";
`
	linkLibC = `//go:build ignore
#include "defs.h"
struct {
	int (*type)[2];
	int (*max_entries)[1];
	unsigned int *key;
	unsigned long long *value;
} lib_map __attribute__((section(".maps"), used));
int lib_value = RET;
__attribute__((noinline)) int lib_add(int x) { return x + 1; }
__attribute__((section("socket"), used)) int lib_prog(void *ctx) { return lib_add(2); }
char _license[] __attribute__((section("license"), used)) = "GPL";
`
)

func TestSeveralSources(t *testing.T) {
	needTools(t, clang)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "defs.h"), "#define RET 41\n")
	writeFile(t, filepath.Join(dir, "main.c"), linkMainC)
	writeFile(t, filepath.Join(dir, "lib.c"), linkLibC)
	err, _, _ := bpf2go(t, dir, "-cc", clang, "-makebase", dir, "bpf", "main.c", "lib.c")
	qt.Assert(t, qt.IsNil(err))
	for _, order := range []string{"bpfel", "bpfeb"} {
		spec, err := ebpf.LoadCollectionSpec(filepath.Join(dir, "bpf_"+order+".o"))
		qt.Assert(t, qt.IsNil(err), qt.Commentf(order))
		qt.Assert(t, qt.IsNotNil(spec.Programs["prog"]))
		qt.Assert(t, qt.IsNotNil(spec.Programs["lib_prog"]))
		qt.Assert(t, qt.IsNotNil(spec.Maps["lib_map"]))
		qt.Assert(t, qt.IsNotNil(spec.Variables["lib_value"]))

		src := readFile(t, filepath.Join(dir, "bpf_"+order+".go"))
		qt.Check(t, qt.StringContains(src, "Prog    *ebpf.Program `ebpf:\"prog\"`"))
		qt.Check(t, qt.StringContains(src, "LibProg *ebpf.Program `ebpf:\"lib_prog\"`"))
		qt.Check(t, qt.StringContains(src, "LibMap *ebpf.Map `ebpf:\"lib_map\"`"))

		// One rule for the Go file: both sources and the header once.
		deps := readFile(t, filepath.Join(dir, "bpf_"+order+".go.d"))
		qt.Check(t, qt.Equals(deps, "bpf_"+order+".go: \\\n main.c \\\n defs.h \\\n lib.c\n\ndefs.h:\n\n"))
	}
}

func TestSeveralSourcesConflict(t *testing.T) {
	needTools(t, clang)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "defs.h"), "#define RET 41\n")
	writeFile(t, filepath.Join(dir, "lib.c"), linkLibC)
	writeFile(t, filepath.Join(dir, "lib2.c"), linkLibC)
	err, _, _ := bpf2go(t, dir, "-cc", clang, "-target", "bpfel", "bpf", "lib.c", "lib2.c")
	qt.Assert(t, qt.ErrorMatches(err, `target bpfel: link: .*/lib2.c: symbol "lib_add": conflicting non-weak definitions`))
}
