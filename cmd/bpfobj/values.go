package main

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bpfkit/ebpf/btf"
)

// Limits that keep the output of a hostile or huge object readable: how
// deeply nested types are spelled out, how many array elements are shown,
// and how long one formatted value may get.
const (
	maxTypeDepth     = 8
	maxArrayElements = 16
	maxValueLength   = 200
)

// typeString spells typ the way C declares it: "__u32", "struct event",
// "char[16]", "datasec .data". Nil gives "".
func typeString(typ btf.Type) string {
	var sb strings.Builder
	writeTypeString(&sb, typ, 0)
	return sb.String()
}

func writeTypeString(sb *strings.Builder, typ btf.Type, depth int) {
	if depth > maxTypeDepth {
		sb.WriteString("...")
		return
	}
	named := func(kind, name string) {
		if name == "" {
			name = "{...}"
		}
		if kind != "" {
			sb.WriteString(kind + " ")
		}
		sb.WriteString(name)
	}
	switch t := typ.(type) {
	case nil:
	case *btf.Void:
		sb.WriteString("void")
	case *btf.Int:
		sb.WriteString(t.Name)
	case *btf.Float:
		sb.WriteString(t.Name)
	case *btf.Typedef:
		sb.WriteString(t.Name)
	case *btf.Struct:
		named("struct", t.Name)
	case *btf.Union:
		named("union", t.Name)
	case *btf.Enum:
		named("enum", t.Name)
	case *btf.Fwd:
		named(t.Kind.String(), t.Name)
	case *btf.Datasec:
		named("datasec", t.Name)
	case *btf.Var:
		sb.WriteString(t.Name)
	case *btf.Func:
		named("func", t.Name)
	case *btf.FuncProto:
		sb.WriteString("func(...)")
	case *btf.Pointer:
		writeTypeString(sb, t.Target, depth+1)
		sb.WriteString(" *")
	case *btf.Array:
		writeTypeString(sb, t.Type, depth+1)
		fmt.Fprintf(sb, "[%d]", t.Nelems)
	case *btf.Const:
		sb.WriteString("const ")
		writeTypeString(sb, t.Type, depth+1)
	case *btf.Volatile:
		sb.WriteString("volatile ")
		writeTypeString(sb, t.Type, depth+1)
	case *btf.Restrict:
		writeTypeString(sb, t.Type, depth+1)
		sb.WriteString(" restrict")
	case *btf.TypeTag:
		writeTypeString(sb, t.Type, depth+1)
		fmt.Fprintf(sb, " __attribute__((btf_type_tag(%q)))", t.Value)
	default:
		fmt.Fprintf(sb, "%T", typ)
	}
}

// formatValue decodes b as a value of typ in byte order bo: integers in
// decimal, enums by name, char arrays as strings, structs as
// "{field: value, ...}". Without a type, or when b doesn't fit it, the
// value is printed as hex. The result is cut after maxValueLength
// characters, and then ends in "...".
func formatValue(typ btf.Type, b []byte, bo binary.ByteOrder) string {
	s := ""
	if typ != nil && sizeIs(typ, len(b)) {
		vf := valueFormatter{bo: bo}
		vf.value(typ, b, 0)
		s = vf.sb.String()
	} else {
		s = hexString(b)
	}
	if len(s) > maxValueLength {
		s = s[:maxValueLength] + "..."
	}
	return s
}

// sizeIs reports whether values of typ are size bytes long.
func sizeIs(typ btf.Type, size int) bool {
	n, err := btf.Sizeof(typ)
	return err == nil && n == size
}

type valueFormatter struct {
	sb strings.Builder
	bo binary.ByteOrder
}

// full reports whether the output reached its limit, so that the
// formatter stops early; formatValue cuts what went beyond.
func (vf *valueFormatter) full() bool {
	return vf.sb.Len() > maxValueLength
}

func (vf *valueFormatter) value(typ btf.Type, b []byte, depth int) {
	if vf.full() {
		return
	}
	typ = btf.UnderlyingType(typ)
	if depth > maxTypeDepth {
		vf.sb.WriteString("...")
		return
	}
	switch t := typ.(type) {
	case *btf.Int:
		vf.integer(t, b)
	case *btf.Enum:
		vf.enum(t, b)
	case *btf.Pointer:
		if v, ok := vf.uint(b); ok {
			fmt.Fprintf(&vf.sb, "%#x", v)
			return
		}
		vf.sb.WriteString(hexString(b))
	case *btf.Float:
		switch len(b) {
		case 4:
			vf.sb.WriteString(strconv.FormatFloat(float64(math.Float32frombits(vf.bo.Uint32(b))), 'g', -1, 32))
		case 8:
			vf.sb.WriteString(strconv.FormatFloat(math.Float64frombits(vf.bo.Uint64(b)), 'g', -1, 64))
		default:
			vf.sb.WriteString(hexString(b))
		}
	case *btf.Array:
		vf.array(t, b, depth)
	case *btf.Struct:
		vf.members(t.Members, b, depth)
	case *btf.Union:
		// The first member is what C initialises and usually the one
		// that matters.
		vf.members(t.Members[:min(1, len(t.Members))], b, depth)
	default:
		vf.sb.WriteString(hexString(b))
	}
}

func (vf *valueFormatter) uint(b []byte) (uint64, bool) {
	switch len(b) {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(vf.bo.Uint16(b)), true
	case 4:
		return uint64(vf.bo.Uint32(b)), true
	case 8:
		return vf.bo.Uint64(b), true
	}
	return 0, false
}

// signExtend interprets the low size bytes of v as a signed integer.
func signExtend(v uint64, size int) int64 {
	shift := 64 - 8*size
	return int64(v<<shift) >> shift
}

func (vf *valueFormatter) integer(t *btf.Int, b []byte) {
	v, ok := vf.uint(b)
	if !ok {
		vf.sb.WriteString(hexString(b))
		return
	}
	switch {
	case t.Encoding == btf.Bool:
		vf.sb.WriteString(strconv.FormatBool(v != 0))
	case t.Encoding == btf.Signed:
		vf.sb.WriteString(strconv.FormatInt(signExtend(v, len(b)), 10))
	default:
		vf.sb.WriteString(strconv.FormatUint(v, 10))
	}
}

func (vf *valueFormatter) enum(t *btf.Enum, b []byte) {
	v, ok := vf.uint(b)
	if !ok {
		vf.sb.WriteString(hexString(b))
		return
	}
	for _, ev := range t.Values {
		if ev.Value == v || t.Signed && int64(ev.Value) == signExtend(v, len(b)) {
			vf.sb.WriteString(ev.Name)
			return
		}
	}
	if t.Signed {
		vf.sb.WriteString(strconv.FormatInt(signExtend(v, len(b)), 10))
		return
	}
	vf.sb.WriteString(strconv.FormatUint(v, 10))
}

func (vf *valueFormatter) array(t *btf.Array, b []byte, depth int) {
	if t.Nelems == 0 {
		vf.sb.WriteString("[]")
		return
	}
	size := len(b) / int(t.Nelems)
	if elem, ok := btf.UnderlyingType(t.Type).(*btf.Int); ok && size == 1 && (elem.Name == "char" || elem.Encoding == btf.Char) {
		if s, ok := cString(b); ok {
			vf.sb.WriteString(strconv.Quote(s))
			return
		}
	}
	vf.sb.WriteByte('[')
	for i := range int(t.Nelems) {
		if i > 0 {
			vf.sb.WriteString(", ")
		}
		if i == maxArrayElements || vf.full() {
			fmt.Fprintf(&vf.sb, "... (%d elements)", t.Nelems)
			break
		}
		vf.value(t.Type, b[i*size:(i+1)*size], depth+1)
	}
	vf.sb.WriteByte(']')
}

// cString returns the text of a NUL-padded char array, if b is one: printable
// characters, then only NULs.
func cString(b []byte) (string, bool) {
	end := len(b)
	for i, c := range b {
		if c == 0 {
			end = i
			break
		}
		if c < 0x20 || c > 0x7e {
			return "", false
		}
	}
	for _, c := range b[end:] {
		if c != 0 {
			return "", false
		}
	}
	return string(b[:end]), true
}

func (vf *valueFormatter) members(members []btf.Member, b []byte, depth int) {
	vf.sb.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			vf.sb.WriteString(", ")
		}
		if vf.full() {
			break
		}
		if m.Name != "" {
			vf.sb.WriteString(m.Name + ": ")
		}
		if m.BitfieldSize > 0 {
			vf.bitfield(m, b)
			continue
		}
		size, err := btf.Sizeof(m.Type)
		start := int(m.Offset / 8)
		if err != nil || m.Offset%8 != 0 || start+size > len(b) || start < 0 {
			vf.sb.WriteByte('?')
			continue
		}
		vf.value(m.Type, b[start:start+size], depth+1)
	}
	vf.sb.WriteByte('}')
}

// bitfield prints a bitfield member.
func (vf *valueFormatter) bitfield(m btf.Member, b []byte) {
	word, ok := bitfieldBits(m, b, vf.bo)
	if !ok {
		vf.sb.WriteByte('?')
		return
	}
	width := uint64(m.BitfieldSize)
	if i, ok := btf.UnderlyingType(m.Type).(*btf.Int); ok && i.Encoding == btf.Signed {
		shift := 64 - width
		vf.sb.WriteString(strconv.FormatInt(int64(word<<shift)>>shift, 10))
		return
	}
	vf.sb.WriteString(strconv.FormatUint(word, 10))
}

// bitfieldBits extracts a bitfield member's bits from the composite's
// bytes b, unsigned. BTF counts bit offsets from the start of the struct
// in memory order: from the least significant bit of the first byte on
// little-endian targets, from the most significant one on big-endian
// targets.
func bitfieldBits(m btf.Member, b []byte, bo binary.ByteOrder) (uint64, bool) {
	off, width := uint64(m.Offset), uint64(m.BitfieldSize)
	first, last := off/8, (off+width+7)/8
	if width > 64 || last > uint64(len(b)) || last-first > 8 {
		return 0, false
	}
	var word uint64
	span := b[first:last]
	if isBigEndian(bo) {
		for _, c := range span {
			word = word<<8 | uint64(c)
		}
		word >>= uint64(len(span))*8 - off%8 - width
	} else {
		for i := len(span) - 1; i >= 0; i-- {
			word = word<<8 | uint64(span[i])
		}
		word >>= off % 8
	}
	if width < 64 {
		word &= 1<<width - 1
	}
	return word, true
}

// hexString prints bytes as lowercase hex, "" for none.
func hexString(b []byte) string {
	return hex.EncodeToString(b)
}

// isBigEndian reports whether bo stores the most significant byte first.
func isBigEndian(bo binary.ByteOrder) bool {
	var b [2]byte
	bo.PutUint16(b[:], 1)
	return b[0] == 0
}
