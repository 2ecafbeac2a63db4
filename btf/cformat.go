package btf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// CFormatter writes BTF types as C declarations that clang compiles: the
// vmlinux.h of BPF programs, or the types an object or a map uses. The
// output is libbpf's (btf_dump.c, what `bpftool btf dump format c`
// prints), so headers from either tool can be swapped; where libbpf says
// nothing we add declarations it lacks (decl tags, function prototypes).
// The zero CFormatter writes bare declarations.
//
// Types are written in dependency order: a struct, union, enum or typedef
// is defined before a type embeds it, and a struct or union reached only
// through pointers on a cycle gets a forward declaration ("struct foo;").
// Anonymous types are defined where they are used. Struct layout is
// reproduced exactly: a struct whose members are not at their natural
// offsets is declared __attribute__((packed)), and gaps that natural
// alignment would not produce are filled with unnamed bitfields
// ("long: 64;", "int: 0;"). Enums keep their 64-bit values (ULL and LL
// suffixes), size and signedness: where C's defaults would give another
// size or signedness, libbpf's mode(byte) or mode(word) attribute or, where
// those don't fit, a fixed underlying type ("enum e : unsigned char",
// which clang accepts in C). Types that share a
// name (vmlinux has a few, from different compilation units) get suffixes
// after the first: "foo___2". Type tags are written as
// __attribute__((btf_type_tag("..."))) where they qualify, decl tags as
// __attribute__((btf_decl_tag("..."))) after the tagged declaration.
//
// The output depends only on the types and the order they are given in.
// A type that C can't declare (a Var as a struct member, a cycle through
// anonymous types) is an error; the output written before it is then
// incomplete.
type CFormatter struct {
	// Guard, if not empty, wraps the output in "#ifndef Guard" /
	// "#define Guard" ... "#endif", like bpftool's __VMLINUX_H__.
	Guard string

	// PreserveAccessIndex applies clang's preserve_access_index attribute
	// to every struct and union of the output (a "#pragma clang attribute"
	// block), so that programs reading their members get CO-RE
	// relocations. Defining BPF_NO_PRESERVE_ACCESS_INDEX before including
	// the header turns it off again, as with bpftool's headers.
	PreserveAccessIndex bool

	// Kfuncs adds an extern __ksym declaration of every function that
	// carries the decl tag "bpf_kfunc" (kernel BTF since Linux 6.10 and
	// pahole 1.27), in a block that defining BPF_NO_KFUNC_PROTOTYPES
	// skips. Functions given to WriteTypes are always declared.
	Kfuncs bool
}

// kfuncTag is the decl tag the kernel's build puts on kfuncs.
const kfuncTag = "bpf_kfunc"

// WriteSpec writes every type of spec as C, in ID order, with the types
// of its base that they need (for split BTF). Variables, data sections
// and functions are not written, except kfuncs with Kfuncs.
//
// It decodes every type of the Spec: for vmlinux that takes a few hundred
// milliseconds and some tens of MB.
func (cf *CFormatter) WriteSpec(w io.Writer, spec *Spec) error {
	var roots []Type
	for t, err := range spec.All() {
		if err != nil {
			return err
		}
		roots = append(roots, t)
	}
	return cf.write(w, roots, false)
}

// WriteTypes writes the given types and every type their definitions need,
// in the given order. A *Func is written as an extern prototype, a *Var
// as an extern variable, a *Datasec as its variables.
func (cf *CFormatter) WriteTypes(w io.Writer, types ...Type) error {
	for i, t := range types {
		if t == nil {
			return fmt.Errorf("type %d: nil", i)
		}
	}
	return cf.write(w, types, true)
}

func (cf *CFormatter) write(w io.Writer, roots []Type, explicit bool) error {
	if cf.Guard != "" && !isCIdentifier(cf.Guard) {
		return fmt.Errorf("include guard %q is not a C identifier", cf.Guard)
	}
	d := newCDumper(roots)
	bw := bufio.NewWriterSize(w, 64<<10)
	d.out = bw
	if cf.Guard != "" {
		fmt.Fprintf(bw, "#ifndef %s\n#define %s\n\n", cf.Guard, cf.Guard)
	}
	if cf.PreserveAccessIndex {
		bw.WriteString("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
			"#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n" +
			"#endif\n\n")
	}

	var kfuncs []*Func
	for _, root := range roots {
		if err := d.dumpType(root); err != nil {
			return err
		}
		var err error
		switch v := root.(type) {
		case *Func:
			if explicit {
				err = d.emitFuncDecl(v, "", "\n\n")
			} else if cf.Kfuncs && slices.Contains(v.Tags, kfuncTag) {
				kfuncs = append(kfuncs, v)
			}
		case *Var:
			if explicit {
				err = d.emitVarDecl(v)
			}
		case *Datasec:
			for _, vs := range v.Vars {
				if !explicit || err != nil {
					break
				}
				switch t := vs.Type.(type) {
				case *Var:
					err = d.emitVarDecl(t)
				case *Func:
					err = d.emitFuncDecl(t, "", "\n\n")
				}
			}
		}
		if err != nil {
			return err
		}
	}
	if len(kfuncs) > 0 {
		// Kernel functions the BPF program may call, as libbpf wants
		// them declared; a program that declares its own (perhaps
		// differently) defines BPF_NO_KFUNC_PROTOTYPES.
		d.str("#ifndef BPF_NO_KFUNC_PROTOTYPES\n" +
			"#ifndef __ksym\n#define __ksym __attribute__((section(\".ksyms\")))\n#endif\n" +
			"#ifndef __weak\n#define __weak __attribute__((weak))\n#endif\n\n")
		for _, fn := range kfuncs {
			if err := d.emitFuncDecl(fn, " __weak __ksym", "\n"); err != nil {
				return err
			}
		}
		d.str("\n#endif /* BPF_NO_KFUNC_PROTOTYPES */\n\n")
	}

	if cf.PreserveAccessIndex {
		bw.WriteString("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
			"#pragma clang attribute pop\n" +
			"#endif\n\n")
	}
	if cf.Guard != "" {
		fmt.Fprintf(bw, "#endif /* %s */\n", cf.Guard)
	}
	return bw.Flush()
}

// isCIdentifier reports whether s is a valid C identifier.
func isCIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// The states of libbpf's two passes over a type: ordering (a depth-first
// topological sort) and emitting.
const (
	cNotOrdered = iota
	cOrdering
	cOrdered
)

const (
	cNotEmitted = iota
	cEmitting
	cEmitted
)

type cTypeState struct {
	order, emit uint8
	// fwdEmitted: a forward declaration (for a typedef: its definition)
	// is out, so the type may be used behind a pointer.
	fwdEmitted bool
	// referenced: some other type refers to this one. An anonymous enum
	// nobody refers to declares constants at the top level.
	referenced   bool
	nameResolved bool
	name         string
}

// maxCNesting bounds the recursion of ordering and emitting. Real types
// nest a few dozen levels (structs embedding structs); only a malformed
// graph (a cyclic typedef or prototype chain) goes deeper.
const maxCNesting = 1024

var errCNesting = errors.New("types nested too deeply or cyclic")

// cDumper holds the state of one CFormatter run.
type cDumper struct {
	out *bufio.Writer
	// index numbers the types reachable from the roots; 0 is Void.
	index  map[Type]int
	types  []Type
	states []cTypeState
	// typeNames counts struct, union and enum names (C's tag namespace),
	// identNames typedef and enumerator names, to suffix duplicates.
	typeNames, identNames map[string]int
	queue                 []int
	aligns                aligner
	depth                 int
	// stack holds the chains of emitTypeDecl, one frame per nested call.
	stack []int
	// funcProto is the prototype of the function being declared, and
	// paramTags the decl tags of its parameters.
	funcProto int
	paramTags [][]string
}

func newCDumper(roots []Type) *cDumper {
	d := &cDumper{
		index:      map[Type]int{},
		types:      []Type{&Void{}},
		states:     []cTypeState{{order: cOrdered, emit: cEmitted}},
		typeNames:  map[string]int{},
		identNames: map[string]int{},
		aligns:     aligner{memo: map[Type]int{}},
	}
	// Number everything reachable, breadth first, and mark what is
	// referenced by another type.
	for _, r := range roots {
		d.indexOf(r)
	}
	for i := 1; i < len(d.types); i++ {
		children(d.types[i], func(c *Type) bool {
			if *c != nil {
				d.states[d.indexOf(*c)].referenced = true
			}
			return true
		})
	}
	return d
}

// indexOf returns the index of t, numbering it if it is new.
func (d *cDumper) indexOf(t Type) int {
	if isVoid(t) {
		return 0
	}
	if i, ok := d.index[t]; ok {
		return i
	}
	i := len(d.types)
	d.index[t] = i
	d.types = append(d.types, t)
	d.states = append(d.states, cTypeState{})
	return i
}

func (d *cDumper) str(s string) { d.out.WriteString(s) }

func (d *cDumper) printf(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

// dumpType writes typ and what it depends on, skipping what earlier calls
// wrote (btf_dump__dump_type).
func (d *cDumper) dumpType(typ Type) error {
	d.queue = d.queue[:0]
	if _, err := d.order(d.indexOf(typ), false); err != nil {
		return err
	}
	for _, id := range d.queue {
		if err := d.emitType(id, 0); err != nil {
			return err
		}
	}
	return nil
}

// order sorts the definitions type id depends on into d.queue, depth
// first. A dependency is strong when the definition needs the other
// type's complete definition (it embeds it, or reaches it through
// anonymous types only) and weak when a forward declaration is enough (a
// pointer to a named struct). order reports whether id is part of a strong
// link.
func (d *cDumper) order(id int, throughPtr bool) (bool, error) {
	st := &d.states[id]
	if st.order == cOrdered {
		return true, nil
	}
	t := d.types[id]
	if st.order == cOrdering {
		if isComposite(t) && throughPtr && t.TypeName() != "" {
			return false, nil
		}
		return false, fmt.Errorf("%s: unsatisfiable type cycle", t)
	}
	if d.depth++; d.depth > maxCNesting {
		return false, fmt.Errorf("%s: %w", t, errCNesting)
	}
	defer func() { d.depth-- }()

	switch v := t.(type) {
	case *Int, *Float:
		st.order = cOrdered
		return false, nil
	case *Pointer:
		strong, err := d.order(d.indexOf(v.Target), true)
		d.states[id].order = cOrdered
		return strong, err
	case *Array:
		return d.order(d.indexOf(v.Type), false)
	case *Struct, *Union:
		if throughPtr && t.TypeName() != "" {
			return false, nil
		}
		st.order = cOrdering
		members, _ := compositeMembers(t)
		for _, m := range members {
			if _, err := d.order(d.indexOf(m.Type), false); err != nil {
				return false, err
			}
		}
		if t.TypeName() != "" {
			d.queue = append(d.queue, id)
		}
		d.states[id].order = cOrdered
		return true, nil
	case *Enum, *Fwd:
		if t.TypeName() != "" || !st.referenced {
			d.queue = append(d.queue, id)
		}
		st.order = cOrdered
		return true, nil
	case *Typedef:
		strong, err := d.order(d.indexOf(v.Type), throughPtr)
		if err != nil {
			return false, err
		}
		if throughPtr && !strong {
			return false, nil
		}
		d.queue = append(d.queue, id)
		d.states[id].order = cOrdered
		return true, nil
	case *Volatile, *Const, *Restrict, *TypeTag:
		next, _ := unwrap(t, false)
		return d.order(d.indexOf(next), throughPtr)
	case *FuncProto:
		strong, err := d.order(d.indexOf(v.Return), throughPtr)
		if err != nil {
			return false, err
		}
		for _, p := range v.Params {
			s, err := d.order(d.indexOf(p.Type), throughPtr)
			if err != nil {
				return false, err
			}
			strong = strong || s
		}
		return strong, nil
	case *Func, *Var, *Datasec, *DeclTag:
		st.order = cOrdered
		return false, nil
	}
	return false, fmt.Errorf("%s: unexpected type", t)
}

func isComposite(t Type) bool {
	_, ok := compositeMembers(t)
	return ok
}

// emitType writes the definition of type id and the forward declarations
// and definitions it needs (btf_dump_emit_type). contID is the named
// struct or union being defined around it, 0 at the top level.
func (d *cDumper) emitType(id, contID int) error {
	st := &d.states[id]
	if st.emit == cEmitted {
		return nil
	}
	t := d.types[id]
	topLevel := contID == 0

	if st.emit == cEmitting {
		if st.fwdEmitted {
			return nil
		}
		switch t.(type) {
		case *Struct, *Union:
			// A member refers to the struct being defined, or one of
			// its anonymous parts refers to a struct that is being
			// defined further out: that needs a forward declaration.
			if id == contID {
				return nil
			}
			if t.TypeName() == "" {
				return fmt.Errorf("%s: anonymous struct or union loop", t)
			}
			d.emitStructFwd(id)
			d.str(";\n\n")
			st.fwdEmitted = true
		case *Typedef:
			// A typedef refers to itself through a pointer: write
			// it now, so it can be used that way.
			if !d.skipTypedef(id) {
				if err := d.emitTypedefDef(id, 0); err != nil {
					return err
				}
				d.str(";\n\n")
			}
			st.fwdEmitted = true
		}
		return nil
	}

	if d.depth++; d.depth > maxCNesting {
		return fmt.Errorf("%s: %w", t, errCNesting)
	}
	defer func() { d.depth-- }()

	switch v := t.(type) {
	case *Int:
		d.emitMissingAlias(id)
		st.emit = cEmitted
	case *Enum:
		if topLevel {
			d.emitEnumDef(id, 0)
			d.str(";\n\n")
		}
		st.emit = cEmitted
	case *Pointer:
		return d.emitType(d.indexOf(v.Target), contID)
	case *Volatile, *Const, *Restrict, *TypeTag:
		next, _ := unwrap(t, false)
		return d.emitType(d.indexOf(next), contID)
	case *Array:
		return d.emitType(d.indexOf(v.Type), contID)
	case *Fwd:
		d.emitFwdDef(id)
		d.str(";\n\n")
		st.emit = cEmitted
	case *Typedef:
		st.emit = cEmitting
		if err := d.emitType(d.indexOf(v.Type), id); err != nil {
			return err
		}
		st = &d.states[id]
		if !st.fwdEmitted && !d.skipTypedef(id) {
			if err := d.emitTypedefDef(id, 0); err != nil {
				return err
			}
			d.str(";\n\n")
		}
		st.emit = cEmitted
	case *Struct, *Union:
		st.emit = cEmitting
		named := t.TypeName() != ""
		if topLevel || !named {
			// The members are spelled out, so what they refer to
			// needs its declarations first.
			inner := id
			if !named {
				inner = contID
			}
			members, _ := compositeMembers(t)
			for _, m := range members {
				if err := d.emitType(d.indexOf(m.Type), inner); err != nil {
					return err
				}
			}
		} else if !st.fwdEmitted && id != contID {
			d.emitStructFwd(id)
			d.str(";\n\n")
			st.fwdEmitted = true
		}
		st = &d.states[id]
		if topLevel {
			if err := d.emitStructDef(id, 0); err != nil {
				return err
			}
			d.str(";\n\n")
			st.emit = cEmitted
		} else {
			st.emit = cNotEmitted
		}
	case *FuncProto:
		if err := d.emitType(d.indexOf(v.Return), contID); err != nil {
			return err
		}
		for _, p := range v.Params {
			if err := d.emitType(d.indexOf(p.Type), contID); err != nil {
				return err
			}
		}
	}
	return nil
}

// skipTypedef reports whether the typedef is a compiler builtin that a
// header must not redefine.
func (d *cDumper) skipTypedef(id int) bool {
	return d.types[id].TypeName() == "__builtin_va_list"
}

// missingAliases are integer types some compilers put into BTF under
// internal names (GCC's Arm SIMD polynomial types) that clang doesn't
// know: they get a typedef.
var missingAliases = map[string]string{
	"__Poly8_t":   "unsigned char",
	"__Poly16_t":  "unsigned short",
	"__Poly64_t":  "unsigned long long",
	"__Poly128_t": "unsigned __int128",
}

func (d *cDumper) emitMissingAlias(id int) {
	name := d.typeName(id)
	if alias, ok := missingAliases[name]; ok {
		d.printf("typedef %s %s;\n\n", alias, name)
	}
}

// typeName is the C name of a struct, union, enum or forward declaration,
// with a suffix for the second and later types of one name.
func (d *cDumper) typeName(id int) string { return d.resolveName(id, d.typeNames) }

// identName is typeName for typedefs.
func (d *cDumper) identName(id int) string { return d.resolveName(id, d.identNames) }

func (d *cDumper) resolveName(id int, names map[string]int) string {
	t := d.types[id]
	name := t.TypeName()
	if name == "" {
		return ""
	}
	st := &d.states[id]
	if st.nameResolved {
		return st.name
	}
	st.nameResolved = true
	st.name = name
	if e, ok := t.(*Enum); ok && len(e.Values) == 0 {
		return name
	}
	if _, ok := t.(*Fwd); ok {
		return name
	}
	if n := countName(names, name); n > 1 {
		st.name = fmt.Sprintf("%s___%d", name, n)
	}
	return st.name
}

// countName counts one more use of name and returns the count.
func countName(names map[string]int, name string) int {
	names[name]++
	return names[name]
}

// declTags renders decl tags as attributes, each preceded by a space.
func declTags(tags []string) string {
	var b strings.Builder
	for _, tag := range tags {
		fmt.Fprintf(&b, " __attribute__((btf_decl_tag(%s)))", cString(tag))
	}
	return b.String()
}

// cString quotes s as a C string literal.
func cString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
