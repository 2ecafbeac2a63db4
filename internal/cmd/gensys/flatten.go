package main

import (
	"fmt"
	"slices"
	"strings"
)

// goStruct is a Go struct carved out of a C type: members in offset order,
// each with its C designator so the layout test can ask the C compiler
// where the member is.
type goStruct struct {
	spec   *structSpec
	member string // designator of the bpf_attr member, "" for anonymous ones and whole structs
	size   int
	// sizeExact: size is sizeof(root) or sizeof(root.member); otherwise it
	// is the end of the last member rounded up to the members' alignment.
	sizeExact bool
	fields    []goField
}

type goField struct {
	name    string
	typ     string
	cPath   string // designator from root, e.g. "link_create.kprobe_multi.flags"
	off     int
	size    int
	align   int
	aliases []string // other union members at the same place
	bits    []string // bitfield members sharing this storage unit: "name:width@bit"
}

type flattener struct {
	h       *header
	spec    *structSpec
	fields  []goField
	names   map[string]bool
	chosen  map[string]bool
	usedPtr map[string]bool
	stop    bool
}

// flatten lays out spec as a Go struct.
func flatten(h *header, spec *structSpec, usedPtr map[string]bool) (*goStruct, error) {
	root, ok := h.structs[spec.root]
	if !ok {
		return nil, fmt.Errorf("%s: no %s in the header", spec.goName, spec.root)
	}
	fl := &flattener{h: h, spec: spec, names: map[string]bool{}, chosen: map[string]bool{}, usedPtr: usedPtr}
	gs := &goStruct{spec: spec}

	typ, base, path := root, 0, ""
	if spec.member != "" {
		f, err := findMember(root, spec.member)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec.goName, err)
		}
		typ, base = f.typ, f.off
		if f.name != "" {
			path = f.name
			gs.member = f.name
		}
	}
	if err := fl.aggregate(typ, base, path, path); err != nil {
		return nil, fmt.Errorf("%s: %w", spec.goName, err)
	}
	for _, c := range spec.choose {
		if !fl.chosen[c] {
			return nil, fmt.Errorf("%s: union alternative %q not found", spec.goName, c)
		}
	}
	if spec.upto != "" && !fl.stop {
		return nil, fmt.Errorf("%s: member %q not found", spec.goName, spec.upto)
	}
	if len(fl.fields) == 0 {
		return nil, fmt.Errorf("%s: no members", spec.goName)
	}

	gs.fields = fl.fields
	gs.size, gs.sizeExact = typ.size, spec.upto == "" && (spec.member == "" || gs.member != "")
	if spec.upto != "" {
		end, align := 0, 1
		for _, f := range gs.fields {
			end = max(end, f.off+f.size)
			align = max(align, f.align)
		}
		gs.size = roundUp(end-base, align)
	}
	// Offsets relative to the Go struct.
	for i := range gs.fields {
		gs.fields[i].off -= base
	}
	return gs, nil
}

// findMember returns the member of union bpf_attr named name, or the
// anonymous member that alone has a field called name.
func findMember(root *ctype, name string) (*field, error) {
	var found []*field
	for _, f := range root.fields {
		if f.name == name {
			return f, nil
		}
		if f.name == "" && hasField(f.typ, name) {
			found = append(found, f)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no member of %s has a field %q", root.name, name)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%d members of %s have a field %q", len(found), root.name, name)
}

// hasField reports whether t has a field called name, looking through
// anonymous nested aggregates.
func hasField(t *ctype, name string) bool {
	for _, f := range t.fields {
		if f.name == name {
			return true
		}
		if f.name == "" && hasField(f.typ, name) {
			return true
		}
	}
	return false
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// aggregate emits the members of t, which sits at base. path is t's
// designator, scope the name of the nearest named aggregate (for names).
func (fl *flattener) aggregate(t *ctype, base int, path, scope string) error {
	if t.kind == kindUnion {
		return fl.union(t, base, path, scope)
	}
	for i := 0; i < len(t.fields) && !fl.stop; i++ {
		f := t.fields[i]
		if f.bits > 0 {
			// One storage unit for the run of bitfields that share it.
			unit := goField{off: base + f.off, size: f.typ.size, align: f.typ.align, cPath: join(path, f.name)}
			unit.typ, _ = intType(f.typ)
			unit.name = fl.name(f.name, scope, path)
			for ; i < len(t.fields) && t.fields[i].bits > 0 && t.fields[i].off == f.off; i++ {
				b := t.fields[i]
				unit.bits = append(unit.bits, fmt.Sprintf("%s:%d@%d", b.name, b.bits, b.bitOf))
			}
			i--
			fl.fields = append(fl.fields, unit)
			continue
		}
		if err := fl.member(f, base, path, scope); err != nil {
			return err
		}
		if fl.spec.upto != "" && join(path, f.name) == fl.spec.upto {
			fl.stop = true
		}
	}
	return nil
}

func (fl *flattener) member(f *field, base int, path, scope string) error {
	switch {
	case f.name == "" && f.typ.kind == kindUnion:
		return fl.union(f.typ, base+f.off, path, scope)
	case f.name == "":
		return fl.aggregate(f.typ, base+f.off, path, scope)
	case f.typ.kind == kindStruct || f.typ.kind == kindUnion:
		p := join(path, f.name)
		return fl.aggregate(f.typ, base+f.off, p, f.name)
	}
	return fl.leaf(f, base, path, scope)
}

// union emits one alternative of an anonymous union (or none, if the spec
// pads it); the gap up to the next member becomes padding.
func (fl *flattener) union(t *ctype, base int, path, scope string) error {
	if slices.Contains(fl.spec.pad, path) {
		return nil
	}
	pick := -1
	for i, alt := range t.fields {
		if fl.picks(alt, path) {
			if pick >= 0 {
				return fmt.Errorf("two alternatives of the union in %q chosen", path)
			}
			pick = i
		}
	}
	if pick < 0 {
		pick = 0
	}
	alt := t.fields[pick]
	n := len(fl.fields)
	if err := fl.member(alt, base, path, scope); err != nil {
		return err
	}
	// Name the other scalar alternatives at the same place in a comment.
	if alt.name != "" && alt.typ.kind == kindInt && len(fl.fields) == n+1 {
		for _, other := range t.fields {
			if other != alt && other.name != "" && other.typ.kind == kindInt && other.typ.size == alt.typ.size {
				fl.fields[n].aliases = append(fl.fields[n].aliases, other.name)
			}
		}
	}
	return nil
}

// picks reports whether the spec chooses alt, a member of the union at path.
func (fl *flattener) picks(alt *field, path string) bool {
	if alt.name != "" {
		p := join(path, alt.name)
		if slices.Contains(fl.spec.choose, p) {
			fl.chosen[p] = true
			return true
		}
		return false
	}
	for _, f := range alt.typ.fields {
		p := join(path, f.name)
		if f.name != "" && slices.Contains(fl.spec.choose, p) {
			fl.chosen[p] = true
			return true
		}
	}
	return false
}

func (fl *flattener) leaf(f *field, base int, path, scope string) error {
	p := join(path, f.name)
	gf := goField{name: fl.name(f.name, scope, path), cPath: p, off: base + f.off, size: f.typ.size, align: f.typ.align}

	rootPath := p
	typ, err := goType(f.typ)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if t, ok := typedByPath[fl.spec.root][rootPath]; ok {
		typ = t
	} else if t, ok := typedByName[f.name]; ok {
		typ = t
	}
	if slices.Contains(pointers[fl.spec.root], rootPath) {
		typ = "Pointer"
		fl.usedPtr[fl.spec.root+":"+rootPath] = true
	}
	if err := checkType(typ, f.typ); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	gf.typ = typ
	fl.fields = append(fl.fields, gf)
	return nil
}

// checkType makes sure a configured Go type fits the C member.
func checkType(goTyp string, c *ctype) error {
	switch goTyp {
	case "Pointer":
		if c.kind != kindInt || c.size != 8 {
			return fmt.Errorf("pointer member is not a __u64")
		}
	case "ObjName":
		if c.kind != kindArray || c.size != 16 || c.elem.size != 1 {
			return fmt.Errorf("name member is not char[16]")
		}
	default:
		if !strings.HasPrefix(goTyp, "[") && !strings.Contains(goTyp, "int") && c.size != 4 {
			return fmt.Errorf("enum-typed member %s is not 32 bits", goTyp)
		}
	}
	return nil
}

// name makes a unique Go field name: the member's own name in CamelCase,
// else prefixed with its enclosing aggregate's, else with its whole path.
func (fl *flattener) name(c, scope, path string) string {
	for _, n := range []string{camel(c), camel(scope) + camel(c), camel(strings.ReplaceAll(join(path, c), ".", "_"))} {
		if !fl.names[n] {
			fl.names[n] = true
			return n
		}
	}
	// Unreachable for distinct designators; keep the output valid anyway.
	n := fmt.Sprintf("%s%d", camel(c), len(fl.fields))
	fl.names[n] = true
	return n
}

// camel turns a C identifier into a Go one: map_fd -> MapFd.
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func intType(c *ctype) (string, error) {
	switch c.name {
	case "__u8", "unsigned char":
		return "uint8", nil
	case "__s8", "signed char":
		return "int8", nil
	case "char":
		return "byte", nil
	case "__u16", "__be16", "unsigned short":
		return "uint16", nil
	case "__s16", "short":
		return "int16", nil
	case "__u32", "__be32", "unsigned int":
		return "uint32", nil
	case "__s32", "int":
		return "int32", nil
	case "__u64", "unsigned long long":
		return "uint64", nil
	case "__s64", "long long":
		return "int64", nil
	}
	return "", fmt.Errorf("no Go type for C type %q", c.name)
}

func goType(c *ctype) (string, error) {
	switch c.kind {
	case kindInt:
		return intType(c)
	case kindEnum:
		return "uint32", nil
	case kindArray:
		elem, err := goType(c.elem)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("[%d]%s", c.n, elem), nil
	}
	return "", fmt.Errorf("no Go type for an aggregate")
}
