package main

import (
	"cmp"
	"fmt"
	"go/format"
	"slices"
	"strings"
	"unicode"

	"github.com/bpfkit/ebpf/btf"
)

// goTypes declares the named structs, unions, enums and typedefs of an
// object's BTF, and its data sections, as Go types with btf.GoFormatter.
// Declarations refer to each other by name. A data section ".data" becomes
// "section_data". A type Go can't express gets an Error instead of a
// declaration. The result is sorted by kind, then name.
func goTypes(spec *btf.Spec) ([]*GoType, error) {
	type named struct {
		kind, name string
		typ        btf.Type
	}
	var found []named
	seen := map[string]bool{}
	for typ, err := range spec.All() {
		if err != nil {
			return nil, err
		}
		var kind, name string
		switch t := typ.(type) {
		case *btf.Struct:
			kind, name = "struct", t.Name
		case *btf.Union:
			kind, name = "union", t.Name
		case *btf.Enum:
			kind, name = "enum", t.Name
		case *btf.Typedef:
			kind, name = "typedef", t.Name
		case *btf.Datasec:
			// Only sections that hold global variables: .maps and
			// license are the loader's business.
			if !strings.HasPrefix(t.Name, ".") || t.Name == ".maps" || t.Name == ".ksyms" {
				continue
			}
			kind, name = "datasec", t.Name
		default:
			continue
		}
		// The same name can appear twice (a typedef and a struct of that
		// name): keep the first of each kind.
		if name == "" || seen[kind+" "+name] {
			continue
		}
		seen[kind+" "+name] = true
		found = append(found, named{kind, name, typ})
	}
	kindOrder := map[string]int{"typedef": 0, "enum": 1, "struct": 2, "union": 3, "datasec": 4}
	slices.SortFunc(found, func(a, b named) int {
		if c := cmp.Compare(kindOrder[a.kind], kindOrder[b.kind]); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})

	// Go names are exported CamelCase, so the declarations work with
	// encoding/binary as they are: "xdp_md" is XdpMd, ".data" SectionData.
	// A struct and a typedef may share a C name; the later one gets its
	// kind appended.
	gf := &btf.GoFormatter{Names: map[btf.Type]string{}, Identifier: goIdentifier}
	used := map[string]bool{}
	goNames := make([]string, len(found))
	for i, n := range found {
		name := goIdentifier(n.name)
		if n.kind == "datasec" {
			name = goIdentifier("section_" + strings.TrimPrefix(n.name, "."))
		}
		for used[name] {
			name += goIdentifier(n.kind)
		}
		used[name] = true
		goNames[i] = name
		gf.Names[n.typ] = name
	}

	out := make([]*GoType, 0, len(found))
	for i, n := range found {
		gt := &GoType{Name: n.name, Kind: n.kind}
		decl, err := gf.TypeDeclaration(goNames[i], n.typ)
		if err != nil {
			gt.Error = err.Error()
		} else if pretty, err := format.Source([]byte(decl)); err == nil {
			gt.Go = string(pretty)
		} else {
			gt.Go = decl
		}
		out = append(out, gt)
	}
	return out, nil
}

// goIdentifier makes an exported Go name of a C name: the parts between
// underscores are capitalised and joined ("__sk_buff" is SkBuff, "type"
// Type), other characters Go doesn't allow are dropped, and a name that
// would start with a digit or be empty gets an X in front.
func goIdentifier(s string) string {
	var sb strings.Builder
	upper := true
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			if upper {
				r = unicode.ToUpper(r)
				upper = false
			}
			sb.WriteRune(r)
		default:
			upper = true
		}
	}
	name := sb.String()
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		name = "X" + name
	}
	return name
}

// writeGoTypes prints the declarations as one Go source fragment.
func writeGoTypes(w *strings.Builder, file string, types []*GoType) {
	fmt.Fprintf(w, "// Go declarations of the BTF types of %s, with the C layout\n", file)
	fmt.Fprintf(w, "// (btf.GoFormatter; structs need `import \"structs\"`).\n")
	for _, t := range types {
		w.WriteString("\n")
		if t.Error != "" {
			fmt.Fprintf(w, "// %s %s: %s\n", t.Kind, t.Name, t.Error)
			continue
		}
		fmt.Fprintf(w, "// %s %s\n%s\n", t.Kind, t.Name, t.Go)
	}
}
