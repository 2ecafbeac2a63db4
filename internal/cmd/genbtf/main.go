// Command genbtf writes btf/wire_gen.go: the sizes and field offsets of the
// BTF and .BTF.ext wire records, the BTF kind numbers, the linkage values and
// the CO-RE relocation kinds, all taken from internal/cmd/uapi/bpf-uapi.h so
// that package btf never types an offset by hand.
//
// Usage: genbtf HEADER OUTPUT
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// structs lists the wire records btf decodes, in output order.
var structs = []string{
	"btf_header",
	"btf_type",
	"btf_enum",
	"btf_enum64",
	"btf_array",
	"btf_member",
	"btf_param",
	"btf_var",
	"btf_var_secinfo",
	"btf_decl_tag",
	"bpf_func_info",
	"bpf_line_info",
	"bpf_core_relo",
}

// enumGroups selects enumerators by prefix and names their Go constants.
var enumGroups = []struct {
	prefix, goPrefix, goType, doc string
	skip                          []string
}{
	{"BTF_KIND_", "kind", "btfKind", "BTF type kinds (BTF_KIND_*).", []string{"BTF_KIND_MAX", "NR_BTF_KINDS"}},
	{"BTF_FUNC_", "btfFunc", "", "Function linkage (enum btf_func_linkage).", nil},
	{"BTF_VAR_", "btfVar", "", "Variable linkage (BTF_VAR_*).", nil},
	{"BPF_CORE_", "core", "coreKind", "CO-RE relocation kinds (enum bpf_core_relo_kind).", nil},
}

// defines lists the #define constants btf needs.
var defines = []string{"BTF_MAGIC", "BTF_MAX_TYPE", "BTF_MAX_NAME_OFFSET", "BTF_MAX_VLEN", "BTF_INT_SIGNED", "BTF_INT_CHAR", "BTF_INT_BOOL"}

var scalarSizes = map[string]int{
	"__u8": 1, "__s8": 1, "__u16": 2, "__s16": 2, "__u32": 4, "__s32": 4, "__u64": 8, "__s64": 8,
}

type field struct {
	name   string
	offset int
	size   int
}

type record struct {
	name   string
	size   int
	fields []field
}

var (
	fieldLine = regexp.MustCompile(`^\s*((?:enum\s+)?[A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z_][A-Za-z0-9_]*)\s*;`)
	enumLine  = regexp.MustCompile(`^\s*([A-Z][A-Z0-9_]*)\s*=\s*(-?[0-9]+)\s*,?\s*$`)
	defLine   = regexp.MustCompile(`^#define\s+([A-Z0-9_]+)\s+(.+)$`)
	shiftExpr = regexp.MustCompile(`^\((\d+)U? << (\d+)\)$`)
)

// block returns the lines between "HEADER {" and the matching "};".
func block(header []byte, open string) ([]string, error) {
	lines := strings.Split(string(header), "\n")
	for i, l := range lines {
		if l != open {
			continue
		}
		depth := 1
		for j := i + 1; j < len(lines); j++ {
			t := strings.TrimSpace(lines[j])
			if strings.HasSuffix(t, "{") {
				depth++
			}
			if strings.HasPrefix(t, "}") {
				depth--
				if depth == 0 {
					return lines[i+1 : j], nil
				}
			}
		}
		return nil, fmt.Errorf("%q: no closing brace", open)
	}
	return nil, fmt.Errorf("%q not found", open)
}

func fieldSize(ctype string) (int, error) {
	if strings.HasPrefix(ctype, "enum ") {
		return 4, nil
	}
	if n, ok := scalarSizes[ctype]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("unsupported field type %q", ctype)
}

// parseStruct lays out a struct of naturally aligned scalars, allowing
// anonymous unions of scalars.
func parseStruct(header []byte, name string) (record, error) {
	lines, err := block(header, "struct "+name+" {")
	if err != nil {
		return record{}, err
	}
	rec := record{name: name}
	off, align := 0, 1
	inUnion, unionSize := false, 0
	place := func(size int) int {
		if size > align {
			align = size
		}
		if off%size != 0 {
			off += size - off%size
		}
		return off
	}
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case t == "union {":
			inUnion, unionSize = true, 0
			continue
		case t == "};" && inUnion:
			inUnion = false
			off += unionSize
			continue
		case t == "":
			continue
		}
		m := fieldLine.FindStringSubmatch(l)
		if m == nil {
			return record{}, fmt.Errorf("struct %s: cannot parse %q", name, t)
		}
		size, err := fieldSize(m[1])
		if err != nil {
			return record{}, fmt.Errorf("struct %s: %w", name, err)
		}
		if inUnion {
			rec.fields = append(rec.fields, field{m[2], place(size), size})
			if size > unionSize {
				unionSize = size
			}
			continue
		}
		rec.fields = append(rec.fields, field{m[2], place(size), size})
		off += size
	}
	if off%align != 0 {
		off += align - off%align
	}
	rec.size = off
	return rec, nil
}

type enumerator struct {
	name  string
	value int64
}

func parseEnumerators(header []byte) []enumerator {
	var out []enumerator
	inEnum := false
	for _, l := range strings.Split(string(header), "\n") {
		if strings.HasPrefix(l, "enum ") && strings.HasSuffix(l, "{") {
			inEnum = true
			continue
		}
		if l == "};" {
			inEnum = false
			continue
		}
		if !inEnum {
			continue
		}
		if m := enumLine.FindStringSubmatch(l); m != nil {
			v, _ := strconv.ParseInt(m[2], 10, 64)
			out = append(out, enumerator{m[1], v})
		}
	}
	return out
}

func parseDefines(header []byte) (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, l := range strings.Split(string(header), "\n") {
		m := defLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		v := strings.TrimSpace(m[2])
		if sm := shiftExpr.FindStringSubmatch(v); sm != nil {
			a, _ := strconv.ParseUint(sm[1], 10, 64)
			b, _ := strconv.ParseUint(sm[2], 10, 64)
			out[m[1]] = a << b
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(v, "U"), 0, 64)
		if err != nil {
			continue
		}
		out[m[1]] = n
	}
	return out, nil
}

// camel turns "btf_var_secinfo" or "FIELD_BYTE_OFFSET" into "BtfVarSecinfo"
// or "FieldByteOffset".
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.ToLower(s), "_") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// Generate returns the contents of btf/wire_gen.go for header.
func Generate(header []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("// Code generated by internal/cmd/genbtf from internal/cmd/uapi/bpf-uapi.h. DO NOT EDIT.\n\n")
	buf.WriteString("package btf\n\n")

	for _, name := range structs {
		rec, err := parseStruct(header, name)
		if err != nil {
			return nil, err
		}
		base := lowerFirst(camel(name))
		fmt.Fprintf(&buf, "// Layout of struct %s.\nconst (\n", name)
		fmt.Fprintf(&buf, "\t%sSize = %d\n", base, rec.size)
		for _, f := range rec.fields {
			fmt.Fprintf(&buf, "\t%s%sOff = %d // %d bytes\n", base, camel(f.name), f.offset, f.size)
		}
		buf.WriteString(")\n\n")
	}

	enums := parseEnumerators(header)
	for _, g := range enumGroups {
		fmt.Fprintf(&buf, "// %s\nconst (\n", g.doc)
		n := 0
		for _, e := range enums {
			if !strings.HasPrefix(e.name, g.prefix) || contains(g.skip, e.name) {
				continue
			}
			goName := g.goPrefix + camel(strings.TrimPrefix(e.name, g.prefix))
			if g.goType != "" {
				fmt.Fprintf(&buf, "\t%s %s = %d // %s\n", goName, g.goType, e.value, e.name)
			} else {
				fmt.Fprintf(&buf, "\t%s = %d // %s\n", goName, e.value, e.name)
			}
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("no enumerators with prefix %s", g.prefix)
		}
		buf.WriteString(")\n\n")
	}

	// Kernel spelling of each kind, for error messages that match bpftool.
	var kinds []enumerator
	for _, e := range enums {
		if strings.HasPrefix(e.name, "BTF_KIND_") && !contains(enumGroups[0].skip, e.name) {
			kinds = append(kinds, e)
		}
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].value < kinds[j].value })
	buf.WriteString("// kindNames spells each kind as the kernel and bpftool do.\nvar kindNames = [...]string{\n")
	for _, k := range kinds {
		fmt.Fprintf(&buf, "\t%d: %q,\n", k.value, strings.TrimPrefix(k.name, "BTF_KIND_"))
	}
	buf.WriteString("}\n\n")

	defs, err := parseDefines(header)
	if err != nil {
		return nil, err
	}
	buf.WriteString("// Constants from linux/btf.h.\nconst (\n")
	for _, d := range defines {
		v, ok := defs[d]
		if !ok {
			return nil, fmt.Errorf("#define %s not found", d)
		}
		fmt.Fprintf(&buf, "\t%s = %#x // %s\n", lowerFirst(camel(d)), v, d)
	}
	buf.WriteString(")\n")

	return format.Source(buf.Bytes())
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: genbtf HEADER OUTPUT")
		os.Exit(2)
	}
	header, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := Generate(header)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genbtf:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
