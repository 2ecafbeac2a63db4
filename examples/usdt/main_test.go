//go:build amd64 || arm64

package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

// TestUSDT lists the probes of a small C program built with gcc and
// <sys/sdt.h>, then attaches to example:hello and runs the program until
// the example prints its arguments.
func TestUSDT(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc builds the probed program:", err)
	}
	cmd := exec.Command("gcc", "-E", "-x", "c", "-")
	cmd.Stdin = strings.NewReader("#include <sys/sdt.h>\n")
	if err := cmd.Run(); err != nil {
		t.Skip("<sys/sdt.h> is missing (systemtap-sdt-dev; .ci/deps.sh installs it)")
	}
	target := filepath.Join(t.TempDir(), "target")
	if out, err := exec.Command("gcc", "-O2", "-o", target, "testdata/target.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}

	out := exampletest.Start(t, "-binary", target).Wait()
	if !regexp.MustCompile(`(?m)^example:hello at 0x[0-9a-f]+, arguments ".+"$`).MatchString(out) {
		t.Fatalf("the list lacks example:hello:\n%s", out)
	}

	ex := exampletest.Start(t, "-binary", target, "-probe", "example:hello")
	ex.WaitFor(`^Waiting for example:hello in `, nil)
	ex.WaitFor(`^example:hello in pid [1-9][0-9]*: 42 -1234567890123 200$`, func() {
		if out, err := exec.Command(target).CombinedOutput(); err != nil {
			t.Fatalf("target: %v\n%s", err, out)
		}
	})
	ex.Stop()
}
