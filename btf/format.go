package btf

import (
	"fmt"
	"strconv"
)

// Formatting for fmt. The verbs:
//
//	%s   kind and name: Struct:"task_struct", Pointer
//	%v   the same, then the type's details in brackets, children by name:
//	     Pointer[target=Struct:"task_struct"]
//	%2v  details two levels deep (children get details too), and so on
//	%+v  addresses after each kind, to tell equal but distinct types apart
//
// A type is printed with details at most once per call; later mentions,
// including those that close a cycle, print its kind and name only.

func (v *Void) Format(fs fmt.State, verb rune)       { formatType(fs, verb, v) }
func (i *Int) Format(fs fmt.State, verb rune)        { formatType(fs, verb, i) }
func (p *Pointer) Format(fs fmt.State, verb rune)    { formatType(fs, verb, p) }
func (a *Array) Format(fs fmt.State, verb rune)      { formatType(fs, verb, a) }
func (s *Struct) Format(fs fmt.State, verb rune)     { formatType(fs, verb, s) }
func (u *Union) Format(fs fmt.State, verb rune)      { formatType(fs, verb, u) }
func (e *Enum) Format(fs fmt.State, verb rune)       { formatType(fs, verb, e) }
func (fw *Fwd) Format(fs fmt.State, verb rune)       { formatType(fs, verb, fw) }
func (td *Typedef) Format(fs fmt.State, verb rune)   { formatType(fs, verb, td) }
func (v *Volatile) Format(fs fmt.State, verb rune)   { formatType(fs, verb, v) }
func (c *Const) Format(fs fmt.State, verb rune)      { formatType(fs, verb, c) }
func (r *Restrict) Format(fs fmt.State, verb rune)   { formatType(fs, verb, r) }
func (fn *Func) Format(fs fmt.State, verb rune)      { formatType(fs, verb, fn) }
func (fp *FuncProto) Format(fs fmt.State, verb rune) { formatType(fs, verb, fp) }
func (v *Var) Format(fs fmt.State, verb rune)        { formatType(fs, verb, v) }
func (ds *Datasec) Format(fs fmt.State, verb rune)   { formatType(fs, verb, ds) }
func (fl *Float) Format(fs fmt.State, verb rune)     { formatType(fs, verb, fl) }
func (dt *DeclTag) Format(fs fmt.State, verb rune)   { formatType(fs, verb, dt) }
func (tt *TypeTag) Format(fs fmt.State, verb rune)   { formatType(fs, verb, tt) }

// membersShown is how many member names %v prints at depth one.
const membersShown = 5

type typePrinter struct {
	buf  []byte
	addr bool
	seen map[Type]bool
}

func formatType(f fmt.State, verb rune, t Type) {
	if verb != 'v' && verb != 's' {
		fmt.Fprintf(f, "%%!%c(%T)", verb, t)
		return
	}
	depth := 0
	if verb == 'v' {
		depth = 1
		if w, ok := f.Width(); ok {
			depth = w
		}
	}
	p := typePrinter{addr: f.Flag('+')}
	p.print(t, depth)
	f.Write(p.buf)
}

// kindName is the Go name of t's concrete type.
func kindName(t Type) string {
	switch t.(type) {
	case *Void:
		return "Void"
	case *Int:
		return "Int"
	case *Pointer:
		return "Pointer"
	case *Array:
		return "Array"
	case *Struct:
		return "Struct"
	case *Union:
		return "Union"
	case *Enum:
		return "Enum"
	case *Fwd:
		return "Fwd"
	case *Typedef:
		return "Typedef"
	case *Volatile:
		return "Volatile"
	case *Const:
		return "Const"
	case *Restrict:
		return "Restrict"
	case *Func:
		return "Func"
	case *FuncProto:
		return "FuncProto"
	case *Var:
		return "Var"
	case *Datasec:
		return "Datasec"
	case *Float:
		return "Float"
	case *DeclTag:
		return "DeclTag"
	case *TypeTag:
		return "TypeTag"
	case nil:
		return "<nil>"
	}
	return fmt.Sprintf("%T", t)
}

func (p *typePrinter) str(s string) { p.buf = append(p.buf, s...) }

func (p *typePrinter) print(t Type, depth int) {
	p.str(kindName(t))
	if t == nil {
		return
	}
	if name := t.TypeName(); name != "" {
		p.str(":")
		p.buf = strconv.AppendQuote(p.buf, name)
	}
	if p.addr {
		p.buf = fmt.Appendf(p.buf, "(%p)", t)
	}
	if depth <= 0 {
		return
	}
	if p.seen == nil {
		p.seen = make(map[Type]bool)
	}
	if p.seen[t] {
		return
	}
	p.seen[t] = true

	p.str("[")
	child := func(key string, c Type) {
		p.str(key)
		p.str("=")
		p.print(c, depth-1)
	}
	switch v := t.(type) {
	case *Void:
	case *Int:
		p.buf = fmt.Appendf(p.buf, "%s size=%d", v.Encoding, v.Size)
	case *Pointer:
		child("target", v.Target)
	case *Array:
		child("index", v.Index)
		p.str(" ")
		child("type", v.Type)
		p.buf = fmt.Appendf(p.buf, " n=%d", v.Nelems)
	case *Struct:
		p.members(v.Size, v.Members, depth)
	case *Union:
		p.members(v.Size, v.Members, depth)
	case *Enum:
		p.buf = fmt.Appendf(p.buf, "size=%d", v.Size)
		if v.Signed {
			p.str(" signed")
		}
		p.buf = fmt.Appendf(p.buf, " values=%d", len(v.Values))
	case *Fwd:
		p.str(v.Kind.String())
	case *Typedef:
		child("type", v.Type)
	case *Volatile:
		child("type", v.Type)
	case *Const:
		child("type", v.Type)
	case *Restrict:
		child("type", v.Type)
	case *Func:
		p.str(v.Linkage.String())
		p.str(" ")
		child("proto", v.Type)
	case *FuncProto:
		p.str("params=(")
		for i, param := range v.Params {
			if i > 0 {
				p.str(", ")
			}
			if param.Name != "" {
				p.str(param.Name)
				p.str(" ")
			}
			p.print(param.Type, depth-1)
		}
		p.str(") ")
		child("return", v.Return)
	case *Var:
		p.str(v.Linkage.String())
		p.str(" ")
		child("type", v.Type)
	case *Datasec:
		p.buf = fmt.Appendf(p.buf, "size=%d vars=%d", v.Size, len(v.Vars))
	case *Float:
		p.buf = fmt.Appendf(p.buf, "size=%d", v.Size)
	case *DeclTag:
		p.buf = fmt.Appendf(p.buf, "value=%q index=%d ", v.Value, v.Index)
		child("type", v.Type)
	case *TypeTag:
		p.buf = fmt.Appendf(p.buf, "value=%q ", v.Value)
		child("type", v.Type)
	}
	p.str("]")
}

// members prints a composite's members: the first few names at depth one,
// every member with its type when printing deeper.
func (p *typePrinter) members(size uint32, ms []Member, depth int) {
	p.buf = fmt.Appendf(p.buf, "size=%d members=%d", size, len(ms))
	if len(ms) == 0 {
		return
	}
	p.str(" [")
	for i, m := range ms {
		if depth <= 1 && i == membersShown {
			p.str(" ...")
			break
		}
		if i > 0 {
			p.str(" ")
		}
		name := m.Name
		if name == "" {
			name = "_"
		}
		p.str(name)
		if m.BitfieldSize > 0 {
			p.buf = fmt.Appendf(p.buf, ":%d", m.BitfieldSize)
		}
		if depth > 1 {
			p.buf = fmt.Appendf(p.buf, "@%d=", m.Offset)
			p.print(m.Type, depth-1)
		}
	}
	p.str("]")
}
