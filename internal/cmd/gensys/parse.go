package main

import (
	"fmt"
	"strconv"
	"strings"
)

// The input is bpftool's C dump of kernel BTF plus single-line #defines, so
// the grammar is small: typedefs of integer types, struct/union definitions
// (members may be anonymous or named nested aggregates, arrays, bitfields or
// enum references), enums with constant values, and #define NAME VALUE. The
// parser accepts exactly that and names the line of anything else.

type kind int

const (
	kindInt kind = iota
	kindStruct
	kindUnion
	kindArray
	kindEnum
)

// ctype is a C type of the header.
type ctype struct {
	kind   kind
	name   string // int type ("__u32"), tag of a struct/union/enum, "" if anonymous
	signed bool   // kindInt
	elem   *ctype // kindArray
	n      int    // kindArray: element count
	fields []*field

	size, align int // filled by layout
}

// field is one member of a struct or union.
type field struct {
	name  string // "" for an anonymous nested struct or union
	typ   *ctype
	bits  int // bitfield width, 0 if not a bitfield
	line  int
	off   int // byte offset in the parent, filled by layout
	bitOf int // bitfields: bit offset within the storage unit at off
}

// enumDef is one enum of the header; name is "" for anonymous enums.
type enumDef struct {
	name   string
	values []enumValue
}

type enumValue struct {
	name  string
	value int64 // two's complement of the C value (ULL values above MaxInt64 wrap)
	text  string
}

// header is the parsed input.
type header struct {
	typedefs map[string]*ctype
	structs  map[string]*ctype // "struct NAME" / "union NAME"
	enums    []*enumDef
	enumByN  map[string]*enumDef
	defines  []enumValue // #define NAME VALUE, in order
}

type token struct {
	text string
	line int
}

func tokenize(src string) ([]token, []token, error) {
	var toks, defines []token
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(src[i:i+2+end+2], "\n")
			i += 2 + end + 2
		case c == '#':
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			defines = append(defines, token{src[i : i+end], line})
			i += end
		case isIdent(c) || (c >= '0' && c <= '9'):
			j := i
			for j < len(src) && (isIdent(src[j]) || (src[j] >= '0' && src[j] <= '9')) {
				j++
			}
			toks = append(toks, token{src[i:j], line})
			i = j
		case strings.ContainsRune("{}[];:=,-", rune(c)):
			toks = append(toks, token{string(c), line})
			i++
		default:
			return nil, nil, fmt.Errorf("line %d: unexpected character %q", line, c)
		}
	}
	return toks, defines, nil
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

type parser struct {
	toks []token
	pos  int
	h    *header
}

func (p *parser) peek() string {
	if p.pos >= len(p.toks) {
		return ""
	}
	return p.toks[p.pos].text
}

func (p *parser) line() int {
	if p.pos >= len(p.toks) {
		if len(p.toks) == 0 {
			return 0
		}
		return p.toks[len(p.toks)-1].line
	}
	return p.toks[p.pos].line
}

func (p *parser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *parser) expect(want string) error {
	if got := p.next(); got != want {
		return fmt.Errorf("line %d: expected %q, found %q", p.line(), want, got)
	}
	return nil
}

func (p *parser) ident() (string, error) {
	t := p.next()
	if t == "" || !isIdent(t[0]) {
		return "", fmt.Errorf("line %d: expected identifier, found %q", p.line(), t)
	}
	return t, nil
}

var baseInts = map[string]*ctype{
	"char":          {kind: kindInt, name: "char", size: 1, align: 1, signed: true},
	"unsigned char": {kind: kindInt, name: "unsigned char", size: 1, align: 1},
	"signed char":   {kind: kindInt, name: "signed char", size: 1, align: 1, signed: true},
	"short":         {kind: kindInt, name: "short", size: 2, align: 2, signed: true},
	"unsigned short": {
		kind: kindInt, name: "unsigned short", size: 2, align: 2,
	},
	"int":                {kind: kindInt, name: "int", size: 4, align: 4, signed: true},
	"unsigned int":       {kind: kindInt, name: "unsigned int", size: 4, align: 4},
	"long long":          {kind: kindInt, name: "long long", size: 8, align: 8, signed: true},
	"unsigned long long": {kind: kindInt, name: "unsigned long long", size: 8, align: 8},
}

// parseHeader parses the restricted C of bpf-uapi.h.
func parseHeader(src string) (*header, error) {
	toks, defs, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	h := &header{
		typedefs: map[string]*ctype{},
		structs:  map[string]*ctype{},
		enumByN:  map[string]*enumDef{},
	}
	p := &parser{toks: toks, h: h}
	for p.peek() != "" {
		if err := p.topLevel(); err != nil {
			return nil, err
		}
	}
	for _, d := range defs {
		if err := h.define(d); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func (p *parser) topLevel() error {
	switch p.peek() {
	case "typedef":
		p.next()
		typ, err := p.typeName()
		if err != nil {
			return err
		}
		name, err := p.ident()
		if err != nil {
			return err
		}
		p.h.typedefs[name] = typ
		return p.expect(";")
	case "struct", "union":
		typ, err := p.aggregate()
		if err != nil {
			return err
		}
		if typ.name == "" {
			return fmt.Errorf("line %d: anonymous top-level %s", p.line(), p.peek())
		}
		return p.expect(";")
	case "enum":
		line := p.line()
		p.next()
		name := ""
		if p.peek() != "{" {
			name = p.next()
		}
		if p.peek() != "{" {
			return fmt.Errorf("line %d: enum declaration without body", line)
		}
		def, err := p.enumBody(name)
		if err != nil {
			return err
		}
		p.h.enums = append(p.h.enums, def)
		if name != "" {
			p.h.enumByN[name] = def
		}
		return p.expect(";")
	}
	return fmt.Errorf("line %d: unexpected %q at top level", p.line(), p.peek())
}

// typeName reads a type: an integer type (possibly several keywords), a
// typedef name, or "struct/union/enum TAG" optionally with a body.
func (p *parser) typeName() (*ctype, error) {
	switch p.peek() {
	case "struct", "union":
		return p.aggregate()
	case "enum":
		p.next()
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		return &ctype{kind: kindEnum, name: name, size: 4, align: 4}, nil
	}
	var words []string
	for {
		w := p.peek()
		if w == "unsigned" || w == "signed" || w == "char" || w == "short" || w == "int" || w == "long" {
			words = append(words, p.next())
			continue
		}
		break
	}
	if len(words) > 0 {
		name := strings.Join(words, " ")
		if t, ok := baseInts[name]; ok {
			return t, nil
		}
		return nil, fmt.Errorf("line %d: unsupported integer type %q", p.line(), name)
	}
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	t, ok := p.h.typedefs[name]
	if !ok {
		return nil, fmt.Errorf("line %d: unknown type %q", p.line(), name)
	}
	// Keep the typedef's name (__u32) for the Go mapping.
	return &ctype{kind: kindInt, name: name, size: t.size, align: t.align, signed: t.signed}, nil
}

// aggregate reads "struct|union [TAG] [{ members }]".
func (p *parser) aggregate() (*ctype, error) {
	k := kindStruct
	if p.next() == "union" {
		k = kindUnion
	}
	typ := &ctype{kind: k}
	if p.peek() != "{" {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		typ.name = name
		key := map[kind]string{kindStruct: "struct ", kindUnion: "union "}[k] + name
		if p.peek() != "{" {
			// A reference to a type defined earlier.
			def, ok := p.h.structs[key]
			if !ok {
				return nil, fmt.Errorf("line %d: %s used before its definition", p.line(), key)
			}
			return def, nil
		}
		p.h.structs[key] = typ
	}
	p.next() // {
	for p.peek() != "}" {
		if p.peek() == "" {
			return nil, fmt.Errorf("unterminated %s", typ.name)
		}
		f, err := p.member()
		if err != nil {
			return nil, err
		}
		typ.fields = append(typ.fields, f)
	}
	p.next() // }
	return typ, nil
}

// member reads one member declaration including its ';'.
func (p *parser) member() (*field, error) {
	line := p.line()
	typ, err := p.typeName()
	if err != nil {
		return nil, err
	}
	f := &field{typ: typ, line: line}
	if p.peek() == ";" {
		if typ.kind != kindStruct && typ.kind != kindUnion || typ.name != "" {
			return nil, fmt.Errorf("line %d: member without a name", line)
		}
		p.next()
		return f, nil
	}
	if f.name, err = p.ident(); err != nil {
		return nil, err
	}
	// Arrays, possibly multi-dimensional: int a[2][3] is an array of 2 [3]int.
	var dims []int
	for p.peek() == "[" {
		p.next()
		n, err := strconv.Atoi(p.next())
		if err != nil {
			return nil, fmt.Errorf("line %d: array length: %v", line, err)
		}
		dims = append(dims, n)
		if err := p.expect("]"); err != nil {
			return nil, err
		}
	}
	for i := len(dims) - 1; i >= 0; i-- {
		f.typ = &ctype{kind: kindArray, elem: f.typ, n: dims[i]}
	}
	if p.peek() == ":" {
		p.next()
		w, err := strconv.Atoi(p.next())
		if err != nil || w <= 0 || w > 8*typ.size || typ.kind != kindInt {
			return nil, fmt.Errorf("line %d: bad bitfield %q", line, f.name)
		}
		f.bits = w
	}
	return f, p.expect(";")
}

func (p *parser) enumBody(name string) (*enumDef, error) {
	def := &enumDef{name: name}
	p.next() // {
	for p.peek() != "}" {
		vname, err := p.ident()
		if err != nil {
			return nil, err
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		text := p.next()
		if text == "-" {
			text = "-" + p.next()
		}
		v, err := parseCInt(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: enum value %s: %v", p.line(), vname, err)
		}
		def.values = append(def.values, enumValue{name: vname, value: v, text: text})
		if p.peek() == "," {
			p.next()
		}
	}
	p.next() // }
	return def, nil
}

// parseCInt parses a C integer literal: decimal or hex, optional sign and
// U/L suffixes.
func parseCInt(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	s = strings.TrimRight(s, "uUlL")
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, err
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// define records "#define NAME VALUE" where VALUE is a literal or
// "(A << B)". Other preprocessor lines (include guards) are ignored.
func (h *header) define(t token) error {
	f := strings.Fields(t.text)
	if len(f) < 2 || f[0] != "#define" {
		return nil // #ifndef, #endif
	}
	if len(f) == 2 {
		return nil // include guard
	}
	expr := strings.Join(f[2:], " ")
	var v int64
	if strings.HasPrefix(expr, "(") && strings.HasSuffix(expr, ")") {
		parts := strings.Split(strings.Trim(expr, "()"), "<<")
		if len(parts) != 2 {
			return fmt.Errorf("line %d: unsupported #define %s %s", t.line, f[1], expr)
		}
		a, err1 := parseCInt(strings.TrimSpace(parts[0]))
		b, err2 := parseCInt(strings.TrimSpace(parts[1]))
		if err1 != nil || err2 != nil || b < 0 || b > 62 {
			return fmt.Errorf("line %d: unsupported #define %s %s", t.line, f[1], expr)
		}
		v = a << b
	} else {
		var err error
		if v, err = parseCInt(expr); err != nil {
			return fmt.Errorf("line %d: #define %s: %v", t.line, f[1], err)
		}
	}
	h.defines = append(h.defines, enumValue{name: f[1], value: v, text: expr})
	return nil
}
