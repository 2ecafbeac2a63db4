//go:build amd64 || arm64

package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

// TestUretprobe probes compute() in a small C program (built with gcc)
// and runs that program until the example reports its return value.
func TestUretprobe(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc builds the probed program:", err)
	}
	target := filepath.Join(t.TempDir(), "target")
	if out, err := exec.Command("gcc", "-O2", "-o", target, "testdata/target.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	ex := exampletest.Start(t, "-binary", target, "-symbol", "compute")
	ex.WaitFor(`^Waiting for compute in `, nil)
	ex.WaitFor(`^compute returned 42 in pid [1-9][0-9]*$`, func() {
		if out, err := exec.Command(target).CombinedOutput(); err != nil {
			t.Fatalf("target: %v\n%s", err, out)
		}
	})
	ex.Stop()
}
