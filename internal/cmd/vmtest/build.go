package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// testBinary is one package's test binary.
type testBinary struct {
	Name       string // file name inside the VM, unique: "internal_sys.test"
	ImportPath string
	RelDir     string // package directory relative to the module root ("." for the root)
	Path       string // where it was built on the host
}

// goPackage is what go list tells about one package.
type goPackage struct {
	ImportPath string
	Dir        string
	TestFiles  int // _test.go files of either kind
}

// goTool is the go command to build with: $GO (the Makefile's), then the
// go on PATH, then the one of the toolchain running us.
func goTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	if g, err := exec.LookPath("go"); err == nil {
		return g
	}
	return filepath.Join(goroot(), "bin", "go")
}

func goroot() string {
	if r := os.Getenv("GOROOT"); r != "" {
		return r
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "/usr/local/go"
	}
	return strings.TrimSpace(string(out))
}

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := output(exec.Command(goTool(), "env", "GOMOD"))
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(mod), nil
}

// listPackages runs go list on patterns in root.
func listPackages(root string, patterns []string) ([]goPackage, error) {
	args := append([]string{"list", "-e", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}\t{{if .Error}}{{.Error}}{{end}}"}, patterns...)
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = root
	out, err := output(cmd)
	if err != nil {
		return nil, err
	}
	return parseGoList(out)
}

func parseGoList(out []byte) ([]goPackage, error) {
	var pkgs []goPackage
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		f := strings.Split(s.Text(), "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("go list: unexpected line %q", s.Text())
		}
		if f[4] != "" {
			return nil, fmt.Errorf("go list: package %s: %s", f[0], f[4])
		}
		t, err1 := strconv.Atoi(f[2])
		x, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("go list: unexpected line %q", s.Text())
		}
		pkgs = append(pkgs, goPackage{ImportPath: f[0], Dir: f[1], TestFiles: t + x})
	}
	return pkgs, s.Err()
}

// binaryName derives a unique file name from a package's directory
// relative to the module root.
func binaryName(modulePath, relDir string) string {
	if relDir == "." {
		return filepath.Base(modulePath) + ".test"
	}
	return strings.ReplaceAll(filepath.ToSlash(relDir), "/", "_") + ".test"
}

// buildFailure is a package whose test binary did not build.
type buildFailure struct {
	ImportPath string
	Output     string // the go command's
}

// buildTests builds the test binary of every package with test files into
// outDir: static (CGO_ENABLED=0, the initramfs has no libc) and without
// -race, which is too slow under TCG. A package that does not build is
// reported in failed and the others still run, as go test does. Two
// builds run at a time: linking dominates, and it is one core per binary.
func buildTests(root, modulePath, outDir string, pkgs []goPackage, tags string) (bins []testBinary, failed []buildFailure, err error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, nil, err
	}
	type job struct {
		bin    testBinary
		output string // set when the build failed
		built  bool
	}
	var jobs []*job
	for _, p := range pkgs {
		if p.TestFiles == 0 {
			continue
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			return nil, nil, fmt.Errorf("package %s: directory %s is outside the module root %s", p.ImportPath, p.Dir, root)
		}
		b := testBinary{Name: binaryName(modulePath, rel), ImportPath: p.ImportPath, RelDir: filepath.ToSlash(rel)}
		b.Path = filepath.Join(outDir, b.Name)
		jobs = append(jobs, &job{bin: b})
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			args := []string{"test", "-c", "-o", j.bin.Path}
			if tags != "" {
				args = append(args, "-tags", tags)
			}
			cmd := exec.Command(goTool(), append(args, j.bin.ImportPath)...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
			var outb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &outb, &outb
			if err := cmd.Run(); err != nil {
				j.output = fmt.Sprintf("%s\n%v", strings.TrimRight(outb.String(), "\n"), err)
				return
			}
			// go test -c writes nothing for a package whose tests are all
			// excluded by build constraints.
			j.built = fileExists(j.bin.Path)
		}()
	}
	wg.Wait()
	for _, j := range jobs {
		switch {
		case j.output != "":
			failed = append(failed, buildFailure{j.bin.ImportPath, j.output})
		case j.built:
			bins = append(bins, j.bin)
		}
	}
	return bins, failed, nil
}

// modulePathOf reads the module path from go list -m.
func modulePathOf(root string) (string, error) {
	cmd := exec.Command(goTool(), "list", "-m")
	cmd.Dir = root
	out, err := output(cmd)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
