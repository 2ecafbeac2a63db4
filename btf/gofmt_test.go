package btf

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

func TestGoTypeDeclaration(t *testing.T) {
	u32 := &Int{Name: "u32", Size: 4}
	s64 := &Int{Name: "s64", Size: 8, Encoding: Signed}
	enum := &Enum{Name: "e", Size: 4, Signed: true, Values: []EnumValue{{"A", 1}, {"B", uint64(1<<64 - 2)}}}
	inner := &Struct{Name: "inner", Size: 4, Members: []Member{{Name: "v", Type: u32}}}
	tests := []struct {
		typ  Type
		want string
	}{
		{u32, "type t uint32"},
		{&Int{Size: 1, Encoding: Bool}, "type t bool"},
		{&Int{Size: 16}, "type t [16]byte"},
		{&Float{Size: 8}, "type t float64"},
		{&Pointer{Target: &Void{}}, "type t uint64"},
		{&Typedef{Name: "x", Type: &Const{Type: s64}}, "type t int64"},
		{&Array{Type: u32, Nelems: 3}, "type t [3]uint32"},
		{enum, "type t int32\n\nconst (\n\ttA t = 1\n\ttB t = -2\n)"},
		{&Struct{Size: 16, Members: []Member{
			{Name: "a", Type: u32},
			{Name: "b", Type: s64, Offset: 64},
		}}, "type t struct { _ structs.HostLayout; a uint32; _ [4]byte; b int64; }"},
		{&Struct{Size: 12, Members: []Member{
			{Name: "bits", Type: u32, BitfieldSize: 3},
			{Name: "type", Type: u32, Offset: 32},
			{Name: "", Type: &Union{Size: 4, Members: []Member{{Name: "x", Type: u32}, {Name: "y", Type: enum}}}, Offset: 64},
		}}, "type t struct { _ structs.HostLayout; _ [4]byte; type_ uint32; x uint32; }"},
		{&Struct{Size: 12, Members: []Member{
			{Name: "a", Type: u32},
			{Name: "packed", Type: s64, Offset: 32},
		}}, "type t struct { _ structs.HostLayout; a uint32; packed [8]byte; }"},
		{&Union{Size: 8, Members: []Member{{Name: "i", Type: inner}, {Name: "l", Type: s64}}},
			"type t struct { _ structs.HostLayout; i struct { _ structs.HostLayout; v uint32; }; _ [4]byte; }"},
		{&Datasec{Name: ".bss", Size: 16, Vars: []VarSecinfo{
			{Type: &Var{Name: "x", Type: u32}, Offset: 8, Size: 4},
		}}, "type t struct { _ structs.HostLayout; _ [8]byte; x uint32; _ [4]byte; }"},
	}
	for _, tt := range tests {
		var gf GoFormatter
		got, err := gf.TypeDeclaration("t", tt.typ)
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%v", tt.typ))
		qt.Assert(t, qt.Equals(got, tt.want))
	}

	gf := GoFormatter{
		Names:      map[Type]string{inner: "Inner"},
		Identifier: strings.ToUpper,
	}
	got, err := gf.TypeDeclaration("outer", &Struct{Size: 4, Members: []Member{{Name: "in", Type: inner}}})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(got, "type outer struct { _ structs.HostLayout; IN Inner; }"))

	// A typedef (through qualifiers) of a named type is declared as it.
	alias := &Typedef{Name: "inner_t", Type: &Const{Type: inner}}
	got, err = gf.TypeDeclaration("InnerT", &Volatile{Type: alias})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(got, "type InnerT Inner"))

	for _, bad := range []Type{&FuncProto{}, &Fwd{Name: "f"}, &Void{}, &Float{Size: 2}, &Int{Size: 3}} {
		var gf GoFormatter
		_, err := gf.TypeDeclaration("t", bad)
		qt.Assert(t, qt.ErrorIs(err, errGoUnsupported), qt.Commentf("%v", bad))
	}
}

// TestGoTypeLayout declares Go types for kernel structs and for every
// struct and datasec of the test objects, compiles them and checks that Go
// agrees on their sizes.
func TestGoTypeLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a Go program")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	var decls, checks strings.Builder
	n := 0
	add := func(typ Type) {
		size, err := Sizeof(typ)
		if err != nil {
			return
		}
		var gf GoFormatter
		name := fmt.Sprintf("T%d", n)
		decl, err := gf.TypeDeclaration(name, typ)
		if err != nil {
			t.Logf("%v: %v", typ, err)
			return
		}
		n++
		fmt.Fprintf(&decls, "%s\n\n", decl)
		fmt.Fprintf(&checks, "\tcheck(%q, unsafe.Sizeof(%s{}), %d)\n", fmt.Sprint(typ), name, size)
	}
	if spec, err := LoadSpec(vmlinuxPath); err == nil {
		for _, name := range vmlinuxBenchTypes {
			var s *Struct
			if spec.TypeByName(name, &s) != nil {
				continue
			}
			add(s)
			// Also check where the (flattened) fields land.
			fields, err := flatten(s.Members, 0, nil, 0)
			qt.Assert(t, qt.IsNil(err))
			pos := uint32(0)
			for _, f := range fields {
				size, _ := Sizeof(f.typ)
				if size == 0 || f.offset < pos {
					continue
				}
				pos = f.offset + uint32(size)
				fmt.Fprintf(&checks, "	check(%q, unsafe.Offsetof(T%d{}.%s), %d)\n", name+"."+f.name, n-1, goIdentifier(f.name), f.offset)
			}
		}
	}
	for _, file := range testdataObjects(t) {
		spec, err := LoadSpec(file)
		qt.Assert(t, qt.IsNil(err))
		for typ, err := range spec.All() {
			qt.Assert(t, qt.IsNil(err))
			switch typ.(type) {
			case *Struct, *Union, *Datasec:
				add(typ)
			}
		}
	}
	src := fmt.Sprintf(`package main

import (
	"fmt"
	"os"
	"structs"
	"unsafe"
)

var _ structs.HostLayout

%s
func check(what string, got uintptr, want int) {
	if int(got) != want {
		fmt.Printf("%%s: Go size %%d, BTF size %%d\n", what, got, want)
		os.Exit(1)
	}
}

func main() {
%s}
`, decls.String(), checks.String())
	dir := t.TempDir()
	if os.Getenv("KEEP_LAYOUT") != "" {
		dir = os.Getenv("KEEP_LAYOUT")
	}
	qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644)))
	qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module layout\ngo 1.24\n"), 0o644)))
	cmd := exec.Command(goBin, "run", ".")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", out))
	t.Logf("checked %d types", n)
}
