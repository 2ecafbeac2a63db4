package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

// ciliumVersion is the release whose bpf2go ours must be compatible with.
const ciliumVersion = "github.com/cilium/ebpf@v0.22.0"

// TestCiliumCompatibility builds cilium/ebpf's bpf2go in a temporary
// module outside this repository (it never becomes a dependency of ours),
// generates bindings for testdata/bindings.c with it, and checks:
//   - testdata/user, a program written against cilium's bindings, builds
//     against them, and against ours (the committed golden files, which
//     TestGenerateAndRun proves current) with only the import path changed;
//   - both generated files declare the same names: types, fields with
//     their types and struct tags, constants, functions, methods;
//   - both compiled the same object, byte for byte.
//
// It needs the Go module proxy (or a module cache holding cilium/ebpf).
func TestCiliumCompatibility(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cilium/ebpf's bpf2go")
	}
	needTools(t, "go", clang)
	cil := t.TempDir()
	writeFile(t, filepath.Join(cil, "go.mod"), "module example.com/cilium\n\ngo 1.24.0\n")
	get := exec.Command("go", "get", ciliumVersion)
	get.Dir = cil
	get.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := get.CombinedOutput(); err != nil {
		t.Skipf("can't fetch %s (no module proxy or cache?): %v\n%s", ciliumVersion, err, out)
	}
	cilBpf2go := filepath.Join(t.TempDir(), "bpf2go")
	goOnline(t, cil, "build", "-o", cilBpf2go, "github.com/cilium/ebpf/cmd/bpf2go")

	writeFile(t, filepath.Join(cil, "bindings.c"), readFile(t, "testdata/bindings.c"))
	gen := exec.Command(cilBpf2go, "-cc", clang, "-type", "request", "bindings", "bindings.c", "--", "-nostdinc", "-Wall", "-Werror")
	gen.Dir = cil
	gen.Env = append(os.Environ(), "GOPACKAGE=main")
	out, err := gen.CombinedOutput()
	qt.Assert(t, qt.IsNil(err), qt.Commentf("cilium's bpf2go:\n%s", out))
	writeFile(t, filepath.Join(cil, "main.go"), userProgram(t, "github.com/cilium/ebpf"))
	goOnline(t, cil, "build", "-o", os.DevNull, ".")

	ours := userModule(t)
	for _, name := range goldenFiles {
		writeFile(t, filepath.Join(ours, name), readFile(t, filepath.Join("testdata/golden", name)))
	}
	writeFile(t, filepath.Join(ours, "main.go"), userProgram(t, "github.com/bpfkit/ebpf"))
	goCmd(t, ours, nil, "build", "-o", os.DevNull, ".")

	for _, name := range goldenFiles {
		theirs := readFile(t, filepath.Join(cil, name))
		mine := readFile(t, filepath.Join(ours, name))
		if strings.HasSuffix(name, ".o") {
			qt.Check(t, qt.IsTrue(theirs == mine), qt.Commentf("%s differs from cilium's", name))
			continue
		}
		mine = strings.ReplaceAll(mine, `"github.com/bpfkit/ebpf"`, `"github.com/cilium/ebpf"`)
		api := declaredAPI(t, theirs)
		qt.Assert(t, qt.IsTrue(len(api) > 80), qt.Commentf("%d declarations", len(api)))
		qt.Check(t, qt.DeepEquals(declaredAPI(t, mine), api), qt.Commentf("%s", name))
	}
}

// goOnline runs go in dir with the network allowed.
func goOnline(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	qt.Assert(t, qt.IsNil(err), qt.Commentf("go %s:\n%s", strings.Join(args, " "), out))
}

// declaredAPI lists what a generated file declares, one line per name:
// the build constraint, imports, types with their fields (name, type, tag;
// padding fields by position), constants with their types, functions and
// methods with their signatures, and variables. Comments are left out.
func declaredAPI(t *testing.T, src string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "bindings.go", src, parser.ParseComments)
	qt.Assert(t, qt.IsNil(err))
	str := func(n ast.Node) string {
		var b bytes.Buffer
		qt.Assert(t, qt.IsNil(printer.Fprint(&b, fset, n)))
		return b.String()
	}
	var api []string
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "//go:build ") {
			api = append(api, line)
		}
	}
	for _, imp := range f.Imports {
		api = append(api, "import "+imp.Path.Value)
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			name := "func " + d.Name.Name
			if d.Recv != nil {
				name = "method " + str(d.Recv.List[0].Type) + "." + d.Name.Name
			}
			api = append(api, name+" "+str(d.Type))
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					st, ok := s.Type.(*ast.StructType)
					if !ok {
						api = append(api, "type "+s.Name.Name+" "+str(s.Type))
						continue
					}
					api = append(api, "type "+s.Name.Name+" struct")
					for i, field := range st.Fields.List {
						line := "field " + s.Name.Name + "."
						for _, n := range field.Names {
							line += n.Name
							if n.Name == "_" {
								line += strings.Repeat("'", i)
							}
						}
						line += " " + str(field.Type)
						if field.Tag != nil {
							line += " " + field.Tag.Value
						}
						api = append(api, line)
					}
				case *ast.ValueSpec:
					for i, n := range s.Names {
						line := strings.ToLower(d.Tok.String()) + " " + n.Name
						if s.Type != nil {
							line += " " + str(s.Type)
						}
						if i < len(s.Values) {
							line += " = " + str(s.Values[i])
						}
						api = append(api, line)
					}
				}
			}
		}
	}
	slices.Sort(api)
	return api
}
