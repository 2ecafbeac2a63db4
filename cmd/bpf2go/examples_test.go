package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

// TestExamplesUpToDate runs every example's go:generate line for bpf2go,
// in the example's directory as go generate would but writing to a
// temporary directory, and fails if an output differs from the committed
// one, or if a committed output is no longer generated. make generate
// rewrites them (with clang-19).
func TestExamplesUpToDate(t *testing.T) {
	needTools(t, clang)
	t.Setenv("BPF2GO_CC", clang)
	for _, env := range []string{"BPF2GO_CFLAGS", "BPF2GO_STRIP", "BPF2GO_MAKEBASE"} {
		t.Setenv(env, "")
		os.Unsetenv(env)
	}
	root := repoRoot(t)
	mains, err := filepath.Glob(filepath.Join(root, "examples", "*", "main.go"))
	qt.Assert(t, qt.IsNil(err))
	generated := 0
	for _, main := range mains {
		dir := filepath.Dir(main)
		name := filepath.Base(dir)
		var lines [][]string
		for _, line := range strings.Split(readFile(t, main), "\n") {
			if args, ok := strings.CutPrefix(line, "//go:generate go tool bpf2go "); ok {
				lines = append(lines, strings.Fields(args))
			}
		}
		committed, err := filepath.Glob(filepath.Join(dir, "*_bpf*"))
		qt.Assert(t, qt.IsNil(err))
		if len(lines) == 0 {
			qt.Check(t, qt.HasLen(committed, 0), qt.Commentf("%s has outputs but no go:generate line", name))
			continue
		}
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			t.Chdir(dir)
			t.Setenv("GOPACKAGE", "main")
			t.Setenv("GOFILE", "main.go")
			for _, args := range lines {
				err := run(new(strings.Builder), new(strings.Builder), append([]string{"-output-dir", out}, args...))
				qt.Assert(t, qt.IsNil(err), qt.Commentf("bpf2go %s", strings.Join(args, " ")))
			}
			fresh, err := os.ReadDir(out)
			qt.Assert(t, qt.IsNil(err))
			var names []string
			for _, f := range fresh {
				names = append(names, f.Name())
				want, err := os.ReadFile(filepath.Join(dir, f.Name()))
				if err != nil {
					t.Errorf("%s: not committed (run make generate)", f.Name())
					continue
				}
				got := readFile(t, filepath.Join(out, f.Name()))
				qt.Check(t, qt.IsTrue(got == string(want)), qt.Commentf("%s/%s is stale: run make generate", name, f.Name()))
			}
			for _, c := range committed {
				qt.Check(t, qt.IsTrue(slices.Contains(names, filepath.Base(c))), qt.Commentf("%s is committed but not generated", c))
			}
			generated++
		})
	}
	qt.Assert(t, qt.IsTrue(generated > 0), qt.Commentf("no example with bindings"))
}
