package btf

import (
	"fmt"
)

// This file spells single declarations for CFormatter: struct, union,
// enum and typedef definitions, and the declarator of a type in a member,
// parameter or typedef, which C writes inside out ("int (*f[4])(void)").

// maxDeclChain bounds the qualifiers, pointers, arrays and prototypes of
// one declarator.
const maxDeclChain = 256

// pfx is the indentation of nesting level lvl: tabs, at most 13 like
// libbpf.
func pfx(lvl int) string {
	const tabs = "\t\t\t\t\t\t\t\t\t\t\t\t\t"
	return tabs[:min(max(lvl, 0), len(tabs))]
}

func (d *cDumper) emitStructFwd(id int) {
	kw := "struct"
	if _, ok := d.types[id].(*Union); ok {
		kw = "union"
	}
	d.str(kw)
	if name := d.typeName(id); name != "" {
		d.str(" " + name)
	}
}

func (d *cDumper) emitFwdDef(id int) {
	name := d.typeName(id)
	if d.types[id].(*Fwd).Kind == FwdUnion {
		d.str("union " + name)
	} else {
		d.str("struct " + name)
	}
}

// isPacked reports whether a struct's layout can only come from
// __attribute__((packed)): a member off its natural alignment, or a size
// that is no multiple of the largest alignment. A struct declared packed
// whose layout is natural anyway is not detected, and needs not be.
func (d *cDumper) isPacked(members []Member, size uint32) bool {
	maxAlign := 1
	for _, m := range members {
		align := d.alignOf(m.Type)
		if m.BitfieldSize == 0 && m.Offset%Bits(8*align) != 0 {
			return true
		}
		maxAlign = max(maxAlign, align)
	}
	return size%uint32(maxAlign) != 0
}

// alignOf is the alignment of a type in bytes, 1 when it has none (a
// malformed member type).
func (d *cDumper) alignOf(t Type) int {
	n, err := d.aligns.align(t, 0)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func (d *cDumper) emitStructDef(id, lvl int) error {
	t := d.types[id]
	var members []Member
	var size uint32
	var tags []string
	isStruct := true
	switch v := t.(type) {
	case *Struct:
		members, size, tags = v.Members, v.Size, v.Tags
	case *Union:
		members, size, tags = v.Members, v.Size, v.Tags
		isStruct = false
	}
	align := d.alignOf(t)
	// libbpf checks structs only; a union can be packed too (one of
	// 18 bytes with a u64 member).
	packed := d.isPacked(members, size)

	d.emitStructFwd(id)
	d.str(" {")
	off, prevBitfield := 0, false
	for _, m := range members {
		mOff, mBits := int(m.Offset), int(m.BitfieldSize)
		mAlign := 1
		if !packed {
			mAlign = d.alignOf(m.Type)
		}
		d.emitPadding(off, mOff, mAlign, prevBitfield && mBits != 0, lvl+1)
		d.str("\n" + pfx(lvl+1))
		if err := d.emitTypeDecl(d.indexOf(m.Type), m.Name, lvl+1); err != nil {
			return err
		}
		if mBits != 0 {
			d.printf(": %d", mBits)
			off = mOff + mBits
			prevBitfield = true
		} else {
			off = mOff + d.compiledSize(m.Type)*8
			prevBitfield = false
		}
		d.str(declTags(m.Tags))
		d.str(";")
	}
	if isStruct {
		d.emitPadding(off, int(size)*8, align, false, lvl+1)
	}
	// An empty struct stays on one line.
	if len(members) > 0 || size > 0 {
		d.str("\n" + pfx(lvl) + "}")
	} else {
		d.str("}")
	}
	d.str(declTags(tags))
	if packed {
		d.str(" __attribute__((packed))")
	}
	return nil
}

// compiledSize is the size clang gives a member of type t: its BTF size,
// except for a va_list. The header can't define __builtin_va_list, the
// compiler's own, which is a pointer for BPF but 24 bytes in the x86-64
// ABI the kernel was built for; the padding after the member then makes up
// the difference (libbpf's headers get such structs wrong).
func (d *cDumper) compiledSize(t Type) int {
	n := 1
	for range maxResolveDepth {
		switch v := t.(type) {
		case *Typedef:
			if v.Name == "__builtin_va_list" {
				return n * pointerSize
			}
			t = v.Type
			continue
		case *Const, *Volatile, *Restrict, *TypeTag:
			t, _ = unwrap(v, false)
			continue
		case *Array:
			n *= int(v.Nelems)
			t = v.Type
			continue
		}
		break
	}
	size, err := Sizeof(t)
	if err != nil {
		return 0
	}
	return n * size
}

// cPads are the integer types that fill gaps, widest first.
var cPads = [...]struct {
	name string
	bits int
}{{"long", 64}, {"int", 32}, {"short", 16}, {"char", 8}}

// emitPadding fills the gap between bit offsets cur and next with unnamed
// bitfields, where the compiler would not leave it by itself. nextAlign is
// the alignment in bytes of the member at next; inBitfield says that both
// sides of the gap are bitfields, which the compiler would pack together.
//
// It first moves to the boundary of the widest type that still fits
// ("long: 0;" makes the compiler align, a bitfield gets the exact count),
// then fills the rest with whole types and a last, smaller one.
func (d *cDumper) emitPadding(cur, next, nextAlign int, inBitfield bool, lvl int) {
	if cur >= next {
		return
	}
	roundUp := func(v, to int) int { return (v + to - 1) / to * to }
	var pad int
	var padName string
	newOff := 0
	for _, p := range cPads {
		pad, padName = p.bits, p.name
		newOff = roundUp(cur, pad)
		if newOff <= next {
			break
		}
	}
	if newOff > cur && newOff <= next {
		// An explicit mark is needed when the next member lands on the
		// boundary but wouldn't be aligned there by itself, or when the
		// rest of the gap would fit in the hole before the boundary
		// (the compiler would put it there).
		if inBitfield ||
			newOff == next && roundUp(cur, nextAlign*8) != newOff ||
			newOff != next && next-newOff <= newOff-cur {
			n := 0
			if inBitfield {
				n = newOff - cur
			}
			d.printf("\n%s%s: %d;", pfx(lvl), padName, n)
		}
		cur = newOff
	}
	for cur != next {
		bits := min(next-cur, pad)
		if bits == pad {
			d.printf("\n%s%s: %d;", pfx(lvl), padName, pad)
			cur += bits
			continue
		}
		// The remainder gets the smallest type that holds it.
		for i := len(cPads) - 1; i >= 0; i-- {
			if cPads[i].bits < bits {
				continue
			}
			d.printf("\n%s%s: %d;", pfx(lvl), cPads[i].name, bits)
			cur += bits
			break
		}
	}
}

// enumIs64 reports whether an enum's values are written as 64-bit
// literals.
func enumIs64(e *Enum) bool {
	return e.Size == 8 || e.has64BitValues()
}

func (d *cDumper) emitEnumDef(id, lvl int) {
	e := d.types[id].(*Enum)
	d.str("enum")
	if name := d.typeName(id); name != "" {
		d.str(" " + name)
	}
	if len(e.Values) == 0 {
		return
	}
	base, attr := enumRepr(e)
	if base != "" {
		d.str(" : " + base)
	}
	d.str(" {")
	wide := enumIs64(e)
	for _, v := range e.Values {
		// Enumerators share the namespace of typedefs.
		name := v.Name
		if n := countName(d.identNames, name); n > 1 {
			name = fmt.Sprintf("%s___%d", name, n)
		}
		switch {
		case wide && e.Signed:
			d.printf("\n%s%s = %dLL,", pfx(lvl+1), name, int64(v.Value))
		case wide:
			d.printf("\n%s%s = %dULL,", pfx(lvl+1), name, v.Value)
		case e.Signed:
			d.printf("\n%s%s = %d,", pfx(lvl+1), name, int32(v.Value))
		default:
			d.printf("\n%s%s = %d,", pfx(lvl+1), name, uint32(v.Value))
		}
	}
	d.str("\n" + pfx(lvl) + "}" + attr)
}

// enumRepr says how to give an enum its size and signedness in C. Left
// alone, clang makes an enum "int" if a value is negative and "unsigned
// int" otherwise, 64 bits wide where a value needs it. Where that differs,
// libbpf's attributes are used when they are exact (mode(byte) is a signed
// char, mode(word) a signed long), and otherwise a fixed underlying type
// ("enum e : unsigned char"), which clang accepts in C.
func enumRepr(e *Enum) (base, attr string) {
	negative := false
	for _, v := range e.Values {
		negative = negative || e.Signed && int64(v.Value) < 0
	}
	size := uint32(4)
	if e.has64BitValues() {
		size = 8
	}
	switch {
	case e.Size == size && e.Signed == negative:
		return "", ""
	case e.Size == 1 && e.Signed:
		return "", " __attribute__((mode(byte)))"
	case e.Size == 8 && e.Signed && size == 4:
		return "", " __attribute__((mode(word)))"
	}
	names := map[uint32][2]string{
		1: {"unsigned char", "signed char"},
		2: {"unsigned short", "short"},
		4: {"unsigned int", "int"},
		8: {"unsigned long long", "long long"},
	}
	n, ok := names[e.Size]
	if !ok {
		return "", ""
	}
	if e.Signed {
		return n[1], ""
	}
	return n[0], ""
}

func (d *cDumper) emitTypedefDef(id, lvl int) error {
	td := d.types[id].(*Typedef)
	name := d.identName(id)
	if _, ok := td.Type.(*Void); ok && name == "__gnuc_va_list" {
		// Old GCC describes this builtin as a typedef of void.
		d.str("typedef __builtin_va_list __gnuc_va_list")
		return nil
	}
	d.str("typedef ")
	if err := d.emitTypeDecl(d.indexOf(td.Type), name, lvl); err != nil {
		return err
	}
	d.str(declTags(td.Tags))
	return nil
}

// emitVarDecl declares a variable: "extern TYPE NAME;".
func (d *cDumper) emitVarDecl(v *Var) error {
	if err := d.declareDeps(v.Type); err != nil {
		return err
	}
	d.str("extern ")
	if err := d.emitTypeDecl(d.indexOf(v.Type), v.Name, 0); err != nil {
		return fmt.Errorf("variable %s: %w", v.Name, err)
	}
	d.str(declTags(v.Tags) + ";\n\n")
	return nil
}

// emitFuncDecl declares a function: "extern RET NAME(PARAMS)SUFFIX;",
// with the decl tags of the function and its parameters, and ends the line
// with end.
func (d *cDumper) emitFuncDecl(fn *Func, suffix, end string) error {
	proto, ok := fn.Type.(*FuncProto)
	if !ok {
		return fmt.Errorf("function %s: type %s is not a function prototype", fn.Name, fn.Type)
	}
	if err := d.declareDeps(proto); err != nil {
		return err
	}
	d.str("extern ")
	d.funcProto, d.paramTags = d.indexOf(proto), fn.ParamTags
	err := d.emitTypeDecl(d.funcProto, fn.Name, 0)
	d.funcProto, d.paramTags = 0, nil
	if err != nil {
		return fmt.Errorf("function %s: %w", fn.Name, err)
	}
	d.str(declTags(fn.Tags) + suffix + ";" + end)
	return nil
}

// declareDeps writes what a declaration of a variable or function of type
// t needs: the definitions of what it uses by value, and forward
// declarations of the structs it points to, so that the compiler doesn't
// scope them to the prototype.
func (d *cDumper) declareDeps(t Type) error {
	if err := d.dumpType(t); err != nil {
		return err
	}
	return d.emitType(d.indexOf(t), -1)
}

// emitTypeDecl writes type id as declared with the name fname (which may
// be empty): the declaration specifiers, then the declarator around the
// name (btf_dump_emit_type_decl).
//
// It lists the chain of types from id to the first type with a name of
// its own (or Void), the outermost first, and writes it from that end.
func (d *cDumper) emitTypeDecl(id int, fname string, lvl int) error {
	start := len(d.stack)
	defer func() { d.stack = d.stack[:start] }()
	for {
		if len(d.stack)-start >= maxDeclChain {
			return fmt.Errorf("declaration of %s: %w", d.types[id], errCNesting)
		}
		d.stack = append(d.stack, id)
		if id == 0 {
			break
		}
		var next Type
		switch v := d.types[id].(type) {
		case *Pointer:
			next = v.Target
		case *Volatile, *Const, *Restrict, *TypeTag:
			next, _ = unwrap(v, false)
		case *FuncProto:
			next = v.Return
		case *Array:
			next = v.Type
		case *Int, *Enum, *Fwd, *Struct, *Union, *Typedef, *Float:
			// A type with a name of its own ends the chain.
			decls := d.stack[start:len(d.stack):len(d.stack)]
			return d.emitTypeChain(&decls, fname, lvl)
		default:
			return fmt.Errorf("%s cannot be part of a declaration", d.types[id])
		}
		id = d.indexOf(next)
	}
	decls := d.stack[start:len(d.stack):len(d.stack)]
	return d.emitTypeChain(&decls, fname, lvl)
}

// isMod reports whether t is a qualifier (including type tags).
func isMod(t Type) bool {
	switch t.(type) {
	case *Volatile, *Const, *Restrict, *TypeTag:
		return true
	}
	return false
}

// emitMods writes the qualifiers on top of the stack as prefixes
// ("const int") and pops them.
func (d *cDumper) emitMods(decls *[]int) {
	for len(*decls) > 0 {
		switch d.types[(*decls)[len(*decls)-1]].(type) {
		case *Volatile:
			d.str("volatile ")
		case *Const:
			d.str("const ")
		case *Restrict:
			d.str("restrict ")
		default:
			return
		}
		*decls = (*decls)[:len(*decls)-1]
	}
}

// dropMods pops qualifiers that C can't express where they are: on arrays
// (GCC puts the element's on the array) and on prototypes (GCC's volatile
// for noreturn).
func (d *cDumper) dropMods(decls *[]int) {
	for len(*decls) > 0 && isMod(d.types[(*decls)[len(*decls)-1]]) {
		*decls = (*decls)[:len(*decls)-1]
	}
}

func (d *cDumper) emitName(name string, lastWasPtr bool) {
	if name != "" && !lastWasPtr {
		d.str(" ")
	}
	d.str(name)
}

// emitTypeChain writes a declaration from its stack of types, innermost
// (the named type) on top (btf_dump_emit_type_chain). Arrays and
// prototypes nest what is below them in parentheses.
func (d *cDumper) emitTypeChain(decls *[]int, fname string, lvl int) error {
	if d.depth++; d.depth > maxCNesting {
		return errCNesting
	}
	defer func() { d.depth-- }()
	// lastWasPtr avoids a space between stars: "int **p".
	lastWasPtr := true
	for len(*decls) > 0 {
		id := (*decls)[len(*decls)-1]
		*decls = (*decls)[:len(*decls)-1]
		if id == 0 {
			d.emitMods(decls)
			d.str("void")
			lastWasPtr = false
			continue
		}
		t := d.types[id]
		switch v := t.(type) {
		case *Int, *Float:
			d.emitMods(decls)
			d.str(t.TypeName())
		case *Struct, *Union:
			d.emitMods(decls)
			if t.TypeName() == "" {
				if err := d.emitStructDef(id, lvl); err != nil {
					return err
				}
			} else {
				d.emitStructFwd(id)
			}
		case *Enum:
			d.emitMods(decls)
			if t.TypeName() == "" {
				d.emitEnumDef(id, lvl)
			} else {
				d.str("enum " + d.typeName(id))
			}
		case *Fwd:
			d.emitMods(decls)
			d.emitFwdDef(id)
		case *Typedef:
			d.emitMods(decls)
			d.str(d.identName(id))
		case *Pointer:
			if lastWasPtr {
				d.str("*")
			} else {
				d.str(" *")
			}
		case *Volatile:
			d.str(" volatile")
		case *Const:
			d.str(" const")
		case *Restrict:
			d.str(" restrict")
		case *TypeTag:
			d.emitMods(decls)
			d.printf(" __attribute__((btf_type_tag(%s)))", cString(v.Value))
		case *Array:
			d.dropMods(decls)
			if len(*decls) == 0 {
				d.emitName(fname, lastWasPtr)
				d.printf("[%d]", v.Nelems)
				return nil
			}
			_, multidim := d.types[(*decls)[len(*decls)-1]].(*Array)
			if fname != "" && !lastWasPtr {
				d.str(" ")
			}
			// A multi-dimensional array needs no parentheses.
			if !multidim {
				d.str("(")
			}
			if err := d.emitTypeChain(decls, fname, lvl); err != nil {
				return err
			}
			if !multidim {
				d.str(")")
			}
			d.printf("[%d]", v.Nelems)
			return nil
		case *FuncProto:
			return d.emitProto(id, v, decls, fname, lastWasPtr, lvl)
		default:
			return fmt.Errorf("%s cannot be part of a declaration", t)
		}
		_, lastWasPtr = t.(*Pointer)
	}
	d.emitName(fname, lastWasPtr)
	return nil
}

// emitProto writes a prototype's declarator and parameter list.
func (d *cDumper) emitProto(id int, fp *FuncProto, decls *[]int, fname string, lastWasPtr bool, lvl int) error {
	var tags [][]string
	if id == d.funcProto {
		tags, d.paramTags = d.paramTags, nil
	}
	d.dropMods(decls)
	if len(*decls) > 0 {
		d.str(" (")
		if err := d.emitTypeChain(decls, fname, lvl); err != nil {
			return err
		}
		d.str(")")
	} else {
		d.emitName(fname, lastWasPtr)
	}
	d.str("(")
	// Clang describes f(void) with one void parameter.
	if len(fp.Params) == 0 || len(fp.Params) == 1 && isVoid(fp.Params[0].Type) {
		d.str("void)")
		return nil
	}
	for i, p := range fp.Params {
		if i > 0 {
			d.str(", ")
		}
		// A last parameter of type void means "...".
		if i == len(fp.Params)-1 && isVoid(p.Type) {
			d.str("...")
			break
		}
		if err := d.emitTypeDecl(d.indexOf(p.Type), p.Name, lvl); err != nil {
			return err
		}
		if i < len(tags) {
			d.str(declTags(tags[i]))
		}
	}
	d.str(")")
	return nil
}

func isVoid(t Type) bool {
	_, ok := t.(*Void)
	return ok || t == nil
}
