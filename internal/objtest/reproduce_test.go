package objtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

// testdataDir is the repository's testdata/, relative to this package.
const testdataDir = "../../testdata"

// The compiler the committed objects were built with. Another release of
// LLVM emits other (equally valid) bytes, so the comparison needs this one.
const (
	clang        = "clang-19"
	strip        = "llvm-strip-19"
	clangRelease = "19.1.7"
)

// sources lists the names (without .c) of the C sources in testdata/.
func sources(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testdataDir, "*.c"))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Not(qt.HasLen(files, 0)), qt.Commentf("no C sources in %s", testdataDir))
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".c"))
	}
	return names
}

// objects lists the .elf files in dir, by base name.
func objects(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.elf"))
	qt.Assert(t, qt.IsNil(err))
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	slices.Sort(names)
	return names
}

// expectedObjects is the sorted list of objects the sources produce.
func expectedObjects(names []string) []string {
	var want []string
	for _, n := range names {
		want = append(want, n+"-eb.elf", n+"-el.elf")
	}
	slices.Sort(want)
	return want
}

func TestObjectsCommitted(t *testing.T) {
	want := expectedObjects(sources(t))
	got := objects(t, testdataDir)

	var missing, stale []string
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok {
			stale = append(stale, g)
		}
	}
	qt.Check(t, qt.HasLen(missing, 0), qt.Commentf("objects not built (run make testdata): %v", missing))
	qt.Check(t, qt.HasLen(stale, 0), qt.Commentf("objects without a NAME.c source: %v", stale))

	leftovers, err := filepath.Glob(filepath.Join(testdataDir, "*.tmp"))
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.HasLen(leftovers, 0), qt.Commentf("files left by an interrupted build"))
}

// lookTools returns the reason the reproducibility test cannot run here, or
// "" when clang-19, llvm-strip-19 and make are installed.
func lookTools() string {
	for _, tool := range []string{"make", clang, strip} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed"
		}
	}
	out, err := exec.Command(clang, "--version").Output()
	if err != nil {
		return clang + " --version failed: " + err.Error()
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if !strings.Contains(first, " "+clangRelease) {
		return "the objects were built with clang " + clangRelease + ", this is " + first
	}
	return ""
}

func TestObjectsReproducible(t *testing.T) {
	if reason := lookTools(); reason != "" {
		t.Skip("cannot rebuild testdata:", reason)
	}
	out := t.TempDir()
	// One definition of the flags: build with the Makefile itself, into out.
	cmd := exec.Command("make", "-C", testdataDir, "--no-print-directory",
		"CLANG="+clang, "STRIP="+strip, "OUT="+out)
	log, err := cmd.CombinedOutput()
	qt.Assert(t, qt.IsNil(err), qt.Commentf("make testdata:\n%s", log))

	want := expectedObjects(sources(t))
	qt.Assert(t, qt.DeepEquals(objects(t, out), want), qt.Commentf("objects built into %s", out))

	var differ []string
	for _, name := range want {
		built, err := os.ReadFile(filepath.Join(out, name))
		qt.Assert(t, qt.IsNil(err))
		committed, err := os.ReadFile(filepath.Join(testdataDir, name))
		if err != nil || !bytes.Equal(built, committed) {
			differ = append(differ, name)
		}
	}
	qt.Assert(t, qt.HasLen(differ, 0),
		qt.Commentf("committed objects differ from a fresh build; run make testdata and commit: %v", differ))
}
