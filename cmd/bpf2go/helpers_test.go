package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

// clang is the compiler the committed outputs are made with.
const clang = "clang-19"

// needTools skips the test when a tool it runs is missing (the VM tests
// have no compiler and no Go toolchain).
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not in $PATH: %v", tool, err)
		}
	}
}

// repoRoot is the module's root directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	qt.Assert(t, qt.IsNil(err))
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	qt.Assert(t, qt.IsNil(err))
	return root
}

// userModule writes a module in a temporary directory that uses this
// repository through a replace directive and bpf2go as a tool, with the
// repository's go.sum, and returns its directory. goCmd runs the go
// command there without network access.
func userModule(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	gomod := "module example.com/user\n\ngo 1.24.0\n\n" +
		"require github.com/bpfkit/ebpf v0.0.0\n\n" +
		"replace github.com/bpfkit/ebpf => " + root + "\n\n" +
		"tool github.com/bpfkit/ebpf/cmd/bpf2go\n"
	writeFile(t, filepath.Join(dir, "go.mod"), gomod)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	qt.Assert(t, qt.IsNil(err))
	writeFile(t, filepath.Join(dir, "go.sum"), string(sum))
	return dir
}

// goCmd runs go with args in dir, offline, and returns its output; it
// fails the test if go fails.
func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	qt.Assert(t, qt.IsNil(err), qt.Commentf("go %s:\n%s", strings.Join(args, " "), out))
	return string(out)
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	qt.Assert(t, qt.IsNil(os.MkdirAll(filepath.Dir(name), 0o755)))
	qt.Assert(t, qt.IsNil(os.WriteFile(name, []byte(content), 0o644)))
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	qt.Assert(t, qt.IsNil(err))
	return string(b)
}

// userProgram is testdata/user/main.go for the library at importPath.
func userProgram(t *testing.T, importPath string) string {
	t.Helper()
	return strings.ReplaceAll(readFile(t, "testdata/user/main.go"), "github.com/cilium/ebpf", importPath)
}
