package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the generated files")

// The go:generate line of the user module: the same as with cilium's
// bpf2go, with this module's import path.
const generateLine = "//go:generate go tool bpf2go -type request bindings bindings.c -- -nostdinc -Wall -Werror\n"

// goldenFiles are the outputs compared byte for byte.
var goldenFiles = []string{"bindings_bpfeb.go", "bindings_bpfeb.o", "bindings_bpfel.go", "bindings_bpfel.o"}

// TestGenerateAndRun is the whole workflow of a user: a module with bpf2go
// as a tool and a go:generate line runs go generate, which compiles
// testdata/bindings.c with clang-19 through bpf2go; the outputs must equal
// testdata/golden byte for byte (-update rewrites them). Then a program
// written against the bindings (testdata/user) is built and, as root,
// run: it loads the object, runs both programs and checks maps, variables
// and the ring buffer through the generated names.
func TestGenerateAndRun(t *testing.T) {
	needTools(t, "go", clang)
	dir := userModule(t)
	writeFile(t, filepath.Join(dir, "bindings.c"), readFile(t, "testdata/bindings.c"))
	writeFile(t, filepath.Join(dir, "gen.go"), "package main\n\n"+generateLine)
	writeFile(t, filepath.Join(dir, "main.go"), userProgram(t, "github.com/bpfkit/ebpf"))

	goCmd(t, dir, []string{"BPF2GO_CC=" + clang}, "generate", ".")
	// go run works as well as go tool.
	qt.Assert(t, qt.StringContains(goCmd(t, dir, nil, "run", "github.com/bpfkit/ebpf/cmd/bpf2go", "-h"), "Usage: bpf2go"))
	for _, name := range goldenFiles {
		got := readFile(t, filepath.Join(dir, name))
		golden := filepath.Join("testdata/golden", name)
		if *update {
			writeFile(t, golden, got)
			continue
		}
		if want := readFile(t, golden); got != want {
			t.Errorf("%s differs from %s (go test -run TestGenerateAndRun -update rewrites it)", name, golden)
			if strings.HasSuffix(name, ".go") {
				t.Log(cmp.Diff(want, got))
			}
		}
	}

	prog := filepath.Join(dir, "prog")
	goCmd(t, dir, nil, "build", "-o", prog, ".")
	out, err := exec.Command(prog).CombinedOutput()
	qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", out))
	want := "programs: count_packets report\n" +
		"maps: counters event_ring events_by_kind\n" +
		"sizes: 32 16 16 8 4\n"
	if os.Getuid() == 0 {
		want += strings.Repeat("count_packets returned 6\n", 3) +
			"counter 3 packets 21 bytes, runs 3, totals.packets 61, last_value 3\n" +
			"event: when 3 seen true kind 6\n" +
			"stored event for kind 6\n" +
			"loaded separately: true true\n"
	} else {
		t.Log("not root: the program ran without loading the object")
	}
	qt.Assert(t, qt.Equals(string(out), want))
}
