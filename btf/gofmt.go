package btf

import (
	"errors"
	"fmt"
	"go/token"
	"strings"
)

// GoFormatter writes Go type declarations whose memory layout is that of
// BTF types on BPF's 64-bit targets, so that map keys, values and global
// sections can be read and written with encoding/binary or unsafe. The code
// generator uses it. The zero GoFormatter is ready to use.
//
// Layout is reproduced with explicit padding: every gap between fields,
// every bitfield (Go has none) and the tail of every struct becomes a
// "_ [N]byte" field, so the result has the same layout on 32-bit Go too.
// Structs start with "_ structs.HostLayout" (the file must import
// "structs"). A union becomes its first member padded to the union's size;
// anonymous struct and union members are flattened into their parent, as C
// lets code name their fields directly. Pointers become uint64.
type GoFormatter struct {
	w      strings.Builder
	depth  int
	aligns map[Type]int

	// Names maps types to the Go names to use when they appear inside
	// the declared type, instead of spelling them out.
	Names map[Type]string

	// Identifier turns a C name into a Go identifier for struct fields
	// and enum elements. By default names are used as they are, with an
	// underscore appended to Go keywords.
	Identifier func(string) string

	// EnumIdentifier names the constant of one enum element. By default
	// it is the enum's name followed by Identifier(element).
	EnumIdentifier func(name, element string) string
}

// maxGoNesting bounds how deeply anonymous types are spelled out, and
// maxGoDeclaration how long a declaration may get.
const (
	maxGoNesting     = 32
	maxGoDeclaration = 1 << 24
)

var errGoUnsupported = errors.New("cannot be represented in Go")

func (gf *GoFormatter) identifier(s string) string {
	if gf.Identifier != nil {
		return gf.Identifier(s)
	}
	return goIdentifier(s)
}

// goIdentifier makes a valid Go identifier of a C name: characters Go does
// not allow (the dot of a function's static variable "fn.var") become
// underscores, and keywords and leading digits get one more.
func goIdentifier(s string) string {
	if token.IsIdentifier(s) {
		return s
	}
	if token.IsKeyword(s) {
		return s + "_"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}

func (gf *GoFormatter) enumIdentifier(name, element string) string {
	if gf.EnumIdentifier != nil {
		return gf.EnumIdentifier(name, element)
	}
	return name + gf.identifier(element)
}

// TypeDeclaration returns "type name T" for typ, where T has typ's layout,
// followed for an enum by a const block with its elements. When typ is a
// qualifier or typedef chain that reaches a type in Names, T is that name.
func (gf *GoFormatter) TypeDeclaration(name string, typ Type) (string, error) {
	gf.w.Reset()
	gf.depth = 0
	gf.aligns = make(map[Type]int)
	if _, err := fmt.Fprintf(&gf.w, "type %s ", name); err != nil {
		return "", err
	}
	// A typedef of a type that has its own name in Names is declared as
	// that type ("type FooT Foo"), so the two stay convertible.
	t := typ
	for range maxResolveDepth {
		next, ok := unwrap(t, true)
		if !ok {
			break
		}
		if target, ok := gf.Names[next]; ok {
			gf.w.WriteString(target)
			return gf.w.String(), nil
		}
		t = next
	}
	skipped := skipQualifiers(typ)
	if e, ok := skipped.(*Enum); ok {
		return gf.enumDeclaration(name, e)
	}
	if err := gf.writeTypeLit(skipped); err != nil {
		return "", fmt.Errorf("type %s (%s): %w", name, typ, err)
	}
	return gf.w.String(), nil
}

func (gf *GoFormatter) enumDeclaration(name string, e *Enum) (string, error) {
	base, err := goIntType(e.Size, e.Signed)
	if err != nil {
		return "", fmt.Errorf("enum %s: %w", name, err)
	}
	gf.w.WriteString(base)
	if len(e.Values) == 0 {
		return gf.w.String(), nil
	}
	gf.w.WriteString("\n\nconst (\n")
	for _, v := range e.Values {
		value := fmt.Sprint(v.Value)
		if e.Signed {
			value = fmt.Sprint(int64(v.Value))
		}
		fmt.Fprintf(&gf.w, "\t%s %s = %s\n", gf.enumIdentifier(name, v.Name), name, value)
	}
	gf.w.WriteString(")")
	return gf.w.String(), nil
}

// skipQualifiers removes qualifiers and typedefs that have no entry in
// Names.
func skipQualifiers(typ Type) Type {
	return UnderlyingType(typ)
}

// writeType writes a reference to typ: its name from Names if it has one
// (checked at every qualifier and typedef), its literal otherwise.
func (gf *GoFormatter) writeType(typ Type) error {
	for range maxResolveDepth {
		if name, ok := gf.Names[typ]; ok {
			gf.w.WriteString(name)
			return nil
		}
		next, ok := unwrap(typ, true)
		if !ok {
			return gf.writeTypeLit(typ)
		}
		typ = next
	}
	return errTooDeep
}

// writeTypeLit writes the Go spelling of typ, which is not a qualifier.
func (gf *GoFormatter) writeTypeLit(typ Type) error {
	gf.depth++
	defer func() { gf.depth-- }()
	if gf.depth > maxGoNesting {
		return errTooDeep
	}
	if gf.w.Len() > maxGoDeclaration {
		// Nested anonymous types repeated at every level: only a
		// malformed graph gets here.
		return fmt.Errorf("declaration longer than %d bytes", maxGoDeclaration)
	}
	switch v := typ.(type) {
	case *Int:
		s, err := goIntForInt(v)
		if err != nil {
			return err
		}
		gf.w.WriteString(s)
	case *Enum:
		s, err := goIntType(v.Size, v.Signed)
		if err != nil {
			return err
		}
		gf.w.WriteString(s)
	case *Float:
		switch v.Size {
		case 4:
			gf.w.WriteString("float32")
		case 8:
			gf.w.WriteString("float64")
		default:
			return fmt.Errorf("%d-byte float: %w", v.Size, errGoUnsupported)
		}
	case *Pointer:
		gf.w.WriteString("uint64")
	case *Array:
		fmt.Fprintf(&gf.w, "[%d]", v.Nelems)
		return gf.writeType(v.Type)
	case *Struct:
		return gf.writeStruct(v.Members, v.Size)
	case *Union:
		return gf.writeUnion(v)
	case *Datasec:
		return gf.writeDatasec(v)
	case *Typedef, *Const, *Volatile, *Restrict, *TypeTag:
		return gf.writeType(v)
	default:
		return fmt.Errorf("%s: %w", typ, errGoUnsupported)
	}
	return nil
}

func goIntType(size uint32, signed bool) (string, error) {
	switch size {
	case 1, 2, 4, 8:
	case 16:
		// No 128-bit integers in Go.
		return "[16]byte", nil
	default:
		return "", fmt.Errorf("%d-byte integer: %w", size, errGoUnsupported)
	}
	prefix := "uint"
	if signed {
		prefix = "int"
	}
	return fmt.Sprintf("%s%d", prefix, size*8), nil
}

func goIntForInt(i *Int) (string, error) {
	if i.Encoding == Bool && i.Size == 1 {
		return "bool", nil
	}
	return goIntType(i.Size, i.Encoding == Signed)
}

// goField is a member to write at a byte offset.
type goField struct {
	name   string
	typ    Type
	offset uint32
}

// flatten lists the members to write: bitfields are left out (they become
// padding) and anonymous composites are replaced by their members.
func flatten(members []Member, base uint32, out []goField, depth int) ([]goField, error) {
	if depth > maxGoNesting {
		return nil, errTooDeep
	}
	for _, m := range members {
		if m.BitfieldSize > 0 {
			continue
		}
		if m.Offset%8 != 0 {
			return nil, fmt.Errorf("member %s at bit offset %d: %w", m.Name, m.Offset, errGoUnsupported)
		}
		off := base + m.Offset.Bytes()
		if m.Name == "" {
			switch v := UnderlyingType(m.Type).(type) {
			case *Struct:
				var err error
				if out, err = flatten(v.Members, off, out, depth+1); err != nil {
					return nil, err
				}
				continue
			case *Union:
				if len(v.Members) > 0 {
					var err error
					if out, err = flatten(v.Members[:1], off, out, depth+1); err != nil {
						return nil, err
					}
				}
				continue
			}
		}
		out = append(out, goField{m.Name, m.Type, off})
	}
	return out, nil
}

func (gf *GoFormatter) writeStruct(members []Member, size uint32) error {
	fields, err := flatten(members, 0, nil, 0)
	if err != nil {
		return err
	}
	return gf.writeFields(fields, size)
}

// goAlign is the alignment Go gives the type writeType writes for typ: the
// natural alignment of the most aligned scalar in it, whether or not the C
// type is packed. It is memoized per TypeDeclaration.
func (gf *GoFormatter) goAlign(typ Type, depth int) (int, error) {
	if depth > maxGoNesting {
		return 0, errTooDeep
	}
	typ = UnderlyingType(typ)
	if a, ok := gf.aligns[typ]; ok {
		return a, nil
	}
	a := 1
	switch v := typ.(type) {
	case *Array:
		var err error
		if a, err = gf.goAlign(v.Type, depth+1); err != nil {
			return 0, err
		}
	case *Struct, *Union:
		members, _ := compositeMembers(v)
		for _, m := range members {
			if m.BitfieldSize > 0 {
				continue
			}
			ma, err := gf.goAlign(m.Type, depth+1)
			if err != nil {
				return 0, err
			}
			a = max(a, ma)
		}
	case *Int:
		if v.Size != 16 { // [16]byte otherwise
			a, _ = alignof(v)
		}
	default:
		var err error
		if a, err = alignof(typ); err != nil {
			return 0, err
		}
	}
	gf.aligns[typ] = a
	return a, nil
}

func (gf *GoFormatter) writeUnion(u *Union) error {
	var first []Member
	if len(u.Members) > 0 {
		first = u.Members[:1]
	}
	fields, err := flatten(first, 0, nil, 0)
	if err != nil {
		return err
	}
	return gf.writeFields(fields, u.Size)
}

func (gf *GoFormatter) writeDatasec(ds *Datasec) error {
	var fields []goField
	for _, vs := range ds.Vars {
		v, ok := vs.Type.(*Var)
		if !ok {
			continue
		}
		fields = append(fields, goField{v.Name, v.Type, vs.Offset})
	}
	return gf.writeFields(fields, ds.Size)
}

// writeFields writes a struct literal with fields at their offsets, padding
// gaps and the tail explicitly.
//
// Go aligns a struct to its most aligned field and rounds its size up to
// that. A field more aligned than the C type allows (a packed struct, or a
// size that is not a multiple of the field's alignment) is written as a
// byte array instead, so that the Go type is never larger than the C one.
func (gf *GoFormatter) writeFields(fields []goField, size uint32) error {
	maxAlign := uint32(pointerSize)
	for size%maxAlign != 0 {
		maxAlign /= 2
	}
	gf.w.WriteString("struct { _ structs.HostLayout; ")
	var pos uint32
	for _, f := range fields {
		if f.offset < pos {
			// Overlaps what was written (a union inside, or a packed
			// layout): leave it out rather than misplace it.
			continue
		}
		fieldSize, err := Sizeof(f.typ)
		if err != nil {
			return fmt.Errorf("field %s: %w", f.name, err)
		}
		if fieldSize == 0 {
			// Zero-length arrays (markers, flexible arrays) hold no
			// data, and Go pads a struct ending in one.
			continue
		}
		align, err := gf.goAlign(f.typ, 0)
		if err != nil {
			return fmt.Errorf("field %s: %w", f.name, err)
		}
		if f.offset > pos {
			fmt.Fprintf(&gf.w, "_ [%d]byte; ", f.offset-pos)
		}
		name := gf.identifier(f.name)
		if f.offset%uint32(align) != 0 || uint32(align) > maxAlign {
			// A packed member that Go would misplace: keep its bytes.
			fmt.Fprintf(&gf.w, "%s [%d]byte; ", name, fieldSize)
		} else {
			gf.w.WriteString(name)
			gf.w.WriteByte(' ')
			if err := gf.writeType(f.typ); err != nil {
				return fmt.Errorf("field %s: %w", f.name, err)
			}
			gf.w.WriteString("; ")
		}
		pos = f.offset + uint32(fieldSize)
	}
	if size > pos {
		fmt.Fprintf(&gf.w, "_ [%d]byte; ", size-pos)
	} else if pos > size {
		return fmt.Errorf("fields end at %d, beyond the size %d", pos, size)
	}
	gf.w.WriteString("}")
	return nil
}
