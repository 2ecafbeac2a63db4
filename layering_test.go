package ebpf_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

const module = "github.com/bpfkit/ebpf"

// goFile is one non-test Go file of the module with its imports.
type goFile struct {
	pkg     string // import path
	name    string // base name
	imports []string
	bpfCall bool // mentions SYS_BPF
}

// walkGoFiles calls fn with the slash-separated path and the source of
// every Go file of the module, tests included, outside testdata and hidden
// directories.
func walkGoFiles(fn func(path string, src []byte) error) error {
	return filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(p), src)
	})
}

func moduleFiles(t *testing.T) []goFile {
	t.Helper()
	var files []goFile
	err := walkGoFiles(func(p string, src []byte) error {
		if strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := path.Dir(p)
		gf := goFile{pkg: module, name: filepath.Base(p), bpfCall: strings.Contains(string(src), "SYS_BPF")}
		if dir != "." {
			gf.pkg = module + "/" + dir
		}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			gf.imports = append(gf.imports, ip)
		}
		files = append(files, gf)
		return nil
	})
	qt.Assert(t, qt.IsNil(err))
	return files
}

// TestLayering enforces the arrows of ARCHITECTURE.md: specifications and
// parsers never reach the syscall layer, internal/sys is the only caller of
// bpf(2), and link sits above ebpf.
func TestLayering(t *testing.T) {
	var (
		internalPkg = module + "/internal"
		sysPkg      = module + "/internal/sys"
		asmPkg      = module + "/asm"
		btfPkg      = module + "/btf"
		linkPkg     = module + "/link"
	)

	// leafPackages may import no package of the module but internal.
	leafPackages := map[string]bool{
		module + "/internal/kconfig":  true,
		module + "/internal/kallsyms": true,
		module + "/internal/tracefs":  true,
		module + "/internal/epoll":    true,
		module + "/internal/linux":    true,
	}

	// syscallFree reports whether a file must not import internal/sys.
	syscallFree := func(f goFile) bool {
		switch f.pkg {
		case asmPkg, internalPkg:
			return true
		case btfPkg:
			return !strings.HasPrefix(f.name, "handle")
		case module + "/internal/kconfig", module + "/internal/kallsyms", module + "/internal/tracefs",
			module + "/internal/epoll", module + "/internal/linux":
			// Kernel facts read from files and other syscalls.
			return true
		case module:
			return strings.HasPrefix(f.name, "elf_") || strings.HasSuffix(f.name, "_spec.go")
		}
		return false
	}

	var problems []string
	report := func(f goFile, format string, args ...any) {
		problems = append(problems, path.Join(strings.TrimPrefix(strings.TrimPrefix(f.pkg, module), "/"), f.name)+": "+fmt.Sprintf(format, args...))
	}
	for _, f := range moduleFiles(t) {
		if f.bpfCall && f.pkg != sysPkg {
			report(f, "mentions SYS_BPF: only internal/sys may call bpf(2)")
		}
		for _, imp := range f.imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			switch {
			case f.pkg == internalPkg:
				report(f, "internal imports %s: it must import no package of the module", imp)
			case f.pkg == module+"/internal/typeprobe" && imp != internalPkg && imp != sysPkg && imp != asmPkg:
				report(f, "internal/typeprobe imports %s: it may only import internal, internal/sys and asm", imp)
			case f.pkg == module+"/internal/pinning" && imp != internalPkg && imp != sysPkg && imp != module+"/internal/linux":
				report(f, "internal/pinning imports %s: it may only import internal, internal/sys and internal/linux", imp)
			case f.pkg == sysPkg && imp != internalPkg:
				report(f, "internal/sys imports %s: it may only import internal", imp)
			case imp == sysPkg && syscallFree(f):
				report(f, "imports internal/sys: parsing and specification code must stay syscall-free")
			case imp == linkPkg && f.pkg != linkPkg && f.pkg != module+"/pin" && !strings.HasPrefix(f.pkg, module+"/cmd/") && !strings.HasPrefix(f.pkg, module+"/internal/cmd/") && !strings.HasPrefix(f.pkg, module+"/examples/"):
				// pin.Load returns links, so pin sits above link; commands
				// and examples sit above everything.
				report(f, "imports link: link sits above every other package but pin")
			case leafPackages[f.pkg] && imp != internalPkg:
				report(f, "%s imports %s: it may only import internal", strings.TrimPrefix(f.pkg, module+"/"), imp)
			case f.pkg == asmPkg && imp != internalPkg:
				report(f, "asm imports %s: it may only import internal", imp)
			case f.pkg == btfPkg && imp != asmPkg && imp != internalPkg && !(imp == sysPkg && !syscallFree(f)):
				report(f, "btf imports %s: it may only import asm and internal (and internal/sys in handle files)", imp)
			}
		}
	}
	sort.Strings(problems)
	qt.Assert(t, qt.HasLen(problems, 0), qt.Commentf("layering violations:\n%s", strings.Join(problems, "\n")))
}

// TestPackageDocs checks that every package has a doc.go.
func TestPackageDocs(t *testing.T) {
	pkgs := map[string]bool{}
	for _, f := range moduleFiles(t) {
		if _, ok := pkgs[f.pkg]; !ok {
			pkgs[f.pkg] = false
		}
		if f.name == "doc.go" {
			pkgs[f.pkg] = true
		}
	}
	var missing []string
	for p, ok := range pkgs {
		if !ok && !strings.Contains(p, "/internal/cmd/") && !strings.Contains(p, "/cmd/") {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	qt.Assert(t, qt.HasLen(missing, 0), qt.Commentf("packages without doc.go: %v", missing))
}

// TestNoSyscallTracepointAttach keeps tests from attaching programs to the
// syscall tracepoints (raw or BTF sys_enter/sys_exit, perf events on
// syscalls/*). Enabling one rewrites the syscall entry that every thread
// of the test process runs through; under qemu's TCG that has hung the VM
// tests' guests (link/tracepoint_test.go). Tests attach to task_rename
// instead. Section names and BTF lookups may still name sys_enter: only the
// literals that attach calls take are refused.
func TestNoSyscallTracepointAttach(t *testing.T) {
	allowed := map[string]bool{
		"elf_sections_test.go":             true, // section name table, no attach
		"internal/sys/ptr_test.go":         true, // string pointer encoding
		"internal/tracefs/tracefs_test.go": true, // event id lookup only
	}
	err := walkGoFiles(func(p string, src []byte) error {
		if !strings.HasSuffix(p, "_test.go") || allowed[p] || p == "layering_test.go" {
			return nil
		}
		for _, lit := range []string{`"sys_enter"`, `"sys_exit"`, `"syscalls"`} {
			if strings.Contains(string(src), lit) {
				t.Errorf("%s: names the syscall tracepoint %s: attach to task_rename instead", p, lit)
			}
		}
		return nil
	})
	qt.Assert(t, qt.IsNil(err))
}
