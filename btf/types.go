package btf

import (
	"errors"
	"fmt"

	"github.com/bpfkit/ebpf/internal"
)

// Errors returned by this package. Match them with errors.Is.
var (
	// ErrNotSupported wraps errors caused by a kernel without BTF or
	// without a BTF feature; it is internal.ErrNotSupported.
	ErrNotSupported = internal.ErrNotSupported
	// ErrNotFound: no type, section or record of that name or ID.
	ErrNotFound = errors.New("not found")
	// ErrNoExtendedInfo: the object has no .BTF.ext section.
	ErrNoExtendedInfo = errors.New("no extended info")
	// ErrMultipleMatches: a lookup that wants one type found several.
	ErrMultipleMatches = errors.New("multiple matching types")
)

// TypeID identifies a type within one BTF blob (and the base blobs it is
// split from). ID 0 is always Void.
type TypeID uint32

// ID identifies a BTF blob loaded into the kernel.
type ID uint32

// Type is one node of a BTF type graph. The concrete types are the pointer
// types of this package: *Void, *Int, *Pointer, *Array, *Struct, *Union,
// *Enum, *Fwd, *Typedef, *Volatile, *Const, *Restrict, *Func, *FuncProto,
// *Var, *Datasec, *Float, *DeclTag and *TypeTag.
//
// Graphs may be cyclic (a struct holding a pointer to itself); every
// function of this package that walks a graph copes with cycles.
//
// Two Types are the same type when they are the same pointer. Two distinct
// pointers with equal contents describe equivalent types; CO-RE adds its own,
// looser notion of compatibility (see CheckTypeCompatibility).
type Type interface {
	// Types format themselves for fmt: %s prints the kind and name, %v
	// adds the details of the type and a summary of its children, %+v
	// also prints addresses so that distinct but equal types can be told
	// apart. A width (%2v) prints that many levels of children in detail.
	fmt.Formatter

	// TypeName is the type's name, or "" for anonymous types and kinds
	// that have no name (Void, Pointer, qualifiers).
	TypeName() string

	// copy returns a shallow copy: children are shared with the original.
	copy() Type
}

// sized is a Type with a size in bytes of its own: Int, Enum, Struct,
// Union, Float and Datasec.
type sized interface {
	Type
	size() uint32
}

// Bits is a length or offset in bits.
type Bits uint32

// Bytes converts b to bytes, rounding down.
func (b Bits) Bytes() uint32 { return uint32(b / 8) }

// Void is the type with no values: the target of void pointers and the
// return type of functions that return nothing. It has TypeID 0.
type Void struct{}

func (*Void) TypeName() string { return "" }
func (v *Void) copy() Type     { return &Void{} }

// IntEncoding says how to interpret the bits of an Int. The values are not
// flags: an Int is exactly one of them.
type IntEncoding byte

// Int encodings, as BTF_INT_* of linux/btf.h.
const (
	Unsigned IntEncoding = 0
	Signed   IntEncoding = btfIntSigned
	Char     IntEncoding = btfIntChar
	Bool     IntEncoding = btfIntBool
)

func (ie IntEncoding) String() string {
	switch ie {
	case Unsigned:
		return "unsigned"
	case Signed:
		return "signed"
	case Char:
		return "char"
	case Bool:
		return "bool"
	}
	return fmt.Sprintf("IntEncoding(%d)", byte(ie))
}

// Int is an integer type of Size bytes.
type Int struct {
	Name string
	// Size in bytes.
	Size     uint32
	Encoding IntEncoding
}

func (i *Int) TypeName() string { return i.Name }
func (i *Int) size() uint32     { return i.Size }
func (i *Int) copy() Type       { c := *i; return &c }

// Pointer is a pointer to Target. Its size is 8 bytes on every BPF target.
type Pointer struct {
	Target Type
}

func (*Pointer) TypeName() string { return "" }
func (p *Pointer) copy() Type     { c := *p; return &c }

// Array is a fixed-length array of Nelems elements of Type, indexed by
// Index (usually an Int).
type Array struct {
	Index  Type
	Type   Type
	Nelems uint32
}

func (*Array) TypeName() string { return "" }
func (a *Array) copy() Type     { c := *a; return &c }

// Member is a field of a Struct or Union. It is not a Type.
type Member struct {
	Name string
	Type Type
	// Offset of the member from the start of the composite, in bits.
	Offset Bits
	// BitfieldSize is the width of a bitfield member, or 0.
	BitfieldSize Bits
	// Tags are the values of decl tags attached to the member.
	Tags []string
}

// Struct is a C struct: members laid out one after another.
type Struct struct {
	Name string
	// Size of the struct in bytes, padding included.
	Size    uint32
	Members []Member
	// Tags are the values of decl tags attached to the struct.
	Tags []string
}

func (s *Struct) TypeName() string { return s.Name }
func (s *Struct) size() uint32     { return s.Size }
func (s *Struct) copy() Type {
	c := *s
	c.Members = copyMembers(s.Members)
	c.Tags = copyStrings(s.Tags)
	return &c
}

// Union is a C union: members overlapping from offset zero.
type Union struct {
	Name string
	// Size of the union in bytes, padding included.
	Size    uint32
	Members []Member
	// Tags are the values of decl tags attached to the union.
	Tags []string
}

func (u *Union) TypeName() string { return u.Name }
func (u *Union) size() uint32     { return u.Size }
func (u *Union) copy() Type {
	c := *u
	c.Members = copyMembers(u.Members)
	c.Tags = copyStrings(u.Tags)
	return &c
}

func copyMembers(ms []Member) []Member {
	if ms == nil {
		return nil
	}
	out := make([]Member, len(ms))
	copy(out, ms)
	for i := range out {
		out[i].Tags = copyStrings(out[i].Tags)
	}
	return out
}

func copyStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

// EnumValue is one enumerator of an Enum. It is not a Type.
type EnumValue struct {
	Name string
	// Value holds the enumerator's bits; for a Signed enum it is the
	// two's complement of a negative value, sign-extended to 64 bits.
	Value uint64
}

// Enum is a C enum, of 32 or 64 bits (BTF_KIND_ENUM or BTF_KIND_ENUM64).
type Enum struct {
	Name string
	// Size of a value in bytes.
	Size uint32
	// Signed is true when values are signed integers.
	Signed bool
	Values []EnumValue
}

func (e *Enum) TypeName() string { return e.Name }
func (e *Enum) size() uint32     { return e.Size }
func (e *Enum) copy() Type {
	c := *e
	if e.Values != nil {
		c.Values = append([]EnumValue(nil), e.Values...)
	}
	return &c
}

// has64BitValues reports whether a value does not fit the 32 bits of a
// BTF_KIND_ENUM.
func (e *Enum) has64BitValues() bool {
	for _, v := range e.Values {
		if e.Signed {
			if int64(v.Value) != int64(int32(v.Value)) {
				return true
			}
		} else if v.Value > 0xffffffff {
			return true
		}
	}
	return false
}

// FwdKind says whether a Fwd declares a struct or a union.
type FwdKind int

// Kinds of forward declaration.
const (
	FwdStruct FwdKind = iota
	FwdUnion
)

func (fk FwdKind) String() string {
	switch fk {
	case FwdStruct:
		return "struct"
	case FwdUnion:
		return "union"
	}
	return fmt.Sprintf("FwdKind(%d)", int(fk))
}

// Fwd is a forward declaration of a struct or union.
type Fwd struct {
	Name string
	Kind FwdKind
}

func (f *Fwd) TypeName() string { return f.Name }
func (f *Fwd) copy() Type       { c := *f; return &c }

// Typedef gives Type another name.
type Typedef struct {
	Name string
	Type Type
	// Tags are the values of decl tags attached to the typedef.
	Tags []string
}

func (td *Typedef) TypeName() string { return td.Name }
func (td *Typedef) copy() Type {
	c := *td
	c.Tags = copyStrings(td.Tags)
	return &c
}

// Volatile is the volatile qualifier.
type Volatile struct {
	Type Type
}

func (*Volatile) TypeName() string { return "" }
func (v *Volatile) copy() Type     { c := *v; return &c }

// Const is the const qualifier.
type Const struct {
	Type Type
}

func (*Const) TypeName() string { return "" }
func (c *Const) copy() Type     { n := *c; return &n }

// Restrict is the restrict qualifier.
type Restrict struct {
	Type Type
}

func (*Restrict) TypeName() string { return "" }
func (r *Restrict) copy() Type     { c := *r; return &c }

// FuncLinkage is the linkage of a Func (enum btf_func_linkage).
type FuncLinkage int

// Function linkages.
const (
	StaticFunc FuncLinkage = btfFuncStatic
	GlobalFunc FuncLinkage = btfFuncGlobal
	ExternFunc FuncLinkage = btfFuncExtern
)

func (fl FuncLinkage) String() string {
	switch fl {
	case StaticFunc:
		return "static"
	case GlobalFunc:
		return "global"
	case ExternFunc:
		return "extern"
	}
	return fmt.Sprintf("FuncLinkage(%d)", int(fl))
}

// Func is a function: a name and a linkage for a FuncProto.
type Func struct {
	Name string
	// Type is the function's *FuncProto.
	Type    Type
	Linkage FuncLinkage
	// Tags are the values of decl tags attached to the function.
	Tags []string
	// ParamTags holds the decl tags of each parameter. It is nil when no
	// parameter has a tag; otherwise it has one (possibly nil) entry per
	// parameter of the FuncProto.
	ParamTags [][]string
}

func (f *Func) TypeName() string { return f.Name }
func (f *Func) copy() Type {
	c := *f
	c.Tags = copyStrings(f.Tags)
	if f.ParamTags != nil {
		c.ParamTags = make([][]string, len(f.ParamTags))
		for i, t := range f.ParamTags {
			c.ParamTags[i] = copyStrings(t)
		}
	}
	return &c
}

// FuncParam is one parameter of a FuncProto. It is not a Type.
type FuncParam struct {
	Name string
	Type Type
}

// FuncProto is a function signature. A variadic function has a last
// parameter with an empty name and a Void type.
type FuncProto struct {
	Return Type
	Params []FuncParam
}

func (*FuncProto) TypeName() string { return "" }
func (fp *FuncProto) copy() Type {
	c := *fp
	if fp.Params != nil {
		c.Params = append([]FuncParam(nil), fp.Params...)
	}
	return &c
}

// VarLinkage is the linkage of a Var (BTF_VAR_*).
type VarLinkage int

// Variable linkages.
const (
	StaticVar VarLinkage = btfVarStatic
	GlobalVar VarLinkage = btfVarGlobalAllocated
	ExternVar VarLinkage = btfVarGlobalExtern
)

func (vl VarLinkage) String() string {
	switch vl {
	case StaticVar:
		return "static"
	case GlobalVar:
		return "global"
	case ExternVar:
		return "extern"
	}
	return fmt.Sprintf("VarLinkage(%d)", int(vl))
}

// Var is a global variable.
type Var struct {
	Name    string
	Type    Type
	Linkage VarLinkage
	// Tags are the values of decl tags attached to the variable.
	Tags []string
}

func (v *Var) TypeName() string { return v.Name }
func (v *Var) copy() Type {
	c := *v
	c.Tags = copyStrings(v.Tags)
	return &c
}

// VarSecinfo places a Var (or an extern Func) in a Datasec. It is not a
// Type.
type VarSecinfo struct {
	// Type is a *Var or a *Func.
	Type   Type
	Offset uint32
	Size   uint32
}

// Datasec describes an ELF section holding global variables.
type Datasec struct {
	Name string
	Size uint32
	Vars []VarSecinfo
}

func (ds *Datasec) TypeName() string { return ds.Name }
func (ds *Datasec) size() uint32     { return ds.Size }
func (ds *Datasec) copy() Type {
	c := *ds
	if ds.Vars != nil {
		c.Vars = append([]VarSecinfo(nil), ds.Vars...)
	}
	return &c
}

// Float is a floating point type of Size bytes.
type Float struct {
	Name string
	// Size in bytes.
	Size uint32
}

func (f *Float) TypeName() string { return f.Name }
func (f *Float) size() uint32     { return f.Size }
func (f *Float) copy() Type       { c := *f; return &c }

// DeclTag is a BTF_KIND_DECL_TAG: a string attached to a declaration
// (btf_decl_tag("value") in C). Decoding also copies the value into the
// Tags of the Struct, Union, Member, Func (or its ParamTags), Typedef or Var
// it targets, which is how most code reads tags; the Builder emits a
// DeclTag only once for a tag present both ways.
type DeclTag struct {
	// Type is the tagged declaration.
	Type  Type
	Value string
	// Index is -1 when the tag applies to Type itself, otherwise the index
	// of the tagged member or parameter.
	Index int
}

func (*DeclTag) TypeName() string { return "" }
func (dt *DeclTag) copy() Type    { c := *dt; return &c }

// TypeTag is a BTF_KIND_TYPE_TAG: a modifier like const or volatile that
// carries a string (btf_type_tag("value") in C), e.g. "__kptr" or "rcu".
// Order matters: a chain of TypeTags keeps its order.
type TypeTag struct {
	Type  Type
	Value string
}

func (*TypeTag) TypeName() string { return "" }
func (tt *TypeTag) copy() Type    { c := *tt; return &c }

// Interface checks.
var (
	_ Type = (*Void)(nil)
	_ Type = (*Int)(nil)
	_ Type = (*Pointer)(nil)
	_ Type = (*Array)(nil)
	_ Type = (*Struct)(nil)
	_ Type = (*Union)(nil)
	_ Type = (*Enum)(nil)
	_ Type = (*Fwd)(nil)
	_ Type = (*Typedef)(nil)
	_ Type = (*Volatile)(nil)
	_ Type = (*Const)(nil)
	_ Type = (*Restrict)(nil)
	_ Type = (*Func)(nil)
	_ Type = (*FuncProto)(nil)
	_ Type = (*Var)(nil)
	_ Type = (*Datasec)(nil)
	_ Type = (*Float)(nil)
	_ Type = (*DeclTag)(nil)
	_ Type = (*TypeTag)(nil)
)
