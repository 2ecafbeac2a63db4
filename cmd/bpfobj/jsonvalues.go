package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/bpfkit/ebpf/btf"
)

// Values decoded through BTF as JSON, the way bpftool's btf_dumper writes a
// map's "formatted" entries, so that `bpfobj map dump -json` and `bpftool
// -j map dump` can be compared value by value: integers as numbers (128-bit
// ones and bitfields as "0x..." strings), bools, chars and enum names as
// strings, char arrays holding a C string as strings, pointers as numbers,
// structs and unions as objects of every member (anonymous ones under ""),
// arrays as lists, variables as {name: value} and data sections as
// {section: [variables]}. Floats are numbers, which bpftool can't show.
//
// values.go has the shorter text form of the same values; both bound their
// work the same way (maxJSONDepth for nesting).

// maxJSONDepth bounds how deeply nested types are decoded; a map value
// nests at most a few levels.
const maxJSONDepth = 32

// jsonObject is a JSON object that keeps its members' order (and
// duplicate names, as bpftool writes anonymous members).
type jsonObject []jsonField

type jsonField struct {
	Name  string
	Value any
}

func (o jsonObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		name, err := json.Marshal(f.Name)
		if err != nil {
			return nil, err
		}
		value, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		buf.Write(name)
		buf.WriteByte(':')
		buf.Write(value)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

var errJSONValue = errors.New("value does not fit its type")

// jsonValue decodes b as a value of typ in byte order bo.
func jsonValue(typ btf.Type, b []byte, bo binary.ByteOrder) (any, error) {
	jd := jsonDecoder{bo: bo}
	return jd.value(typ, b, 0)
}

type jsonDecoder struct {
	bo binary.ByteOrder
}

func (jd *jsonDecoder) value(typ btf.Type, b []byte, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("types nested more than %d levels", maxJSONDepth)
	}
	typ = btf.UnderlyingType(typ)
	switch t := typ.(type) {
	case *btf.Int:
		return jd.integer(t, b)
	case *btf.Enum:
		return jd.enum(t, b)
	case *btf.Pointer:
		if len(b) < 8 {
			return nil, errJSONValue
		}
		return json.Number(strconv.FormatUint(jd.bo.Uint64(b), 10)), nil
	case *btf.Float:
		switch {
		case t.Size == 4 && len(b) >= 4:
			return json.Number(strconv.FormatFloat(float64(math.Float32frombits(jd.bo.Uint32(b))), 'g', -1, 32)), nil
		case t.Size == 8 && len(b) >= 8:
			return json.Number(strconv.FormatFloat(math.Float64frombits(jd.bo.Uint64(b)), 'g', -1, 64)), nil
		}
		return hexString(b), nil
	case *btf.Array:
		return jd.array(t, b, depth)
	case *btf.Struct:
		return jd.members(t.Members, b, depth)
	case *btf.Union:
		return jd.members(t.Members, b, depth)
	case *btf.Var:
		v, err := jd.value(t.Type, b, depth+1)
		if err != nil {
			return nil, err
		}
		return jsonObject{{t.Name, v}}, nil
	case *btf.Datasec:
		vars := []any{}
		for _, vs := range t.Vars {
			end := uint64(vs.Offset) + uint64(vs.Size)
			if end > uint64(len(b)) {
				return nil, fmt.Errorf("variable %s: %w", vs.Type.TypeName(), errJSONValue)
			}
			v, err := jd.value(vs.Type, b[vs.Offset:end], depth+1)
			if err != nil {
				return nil, err
			}
			vars = append(vars, v)
		}
		return jsonObject{{t.Name, vars}}, nil
	}
	return nil, fmt.Errorf("%s cannot be shown", typ)
}

func (jd *jsonDecoder) uint(b []byte, size int) (uint64, bool) {
	if len(b) < size {
		return 0, false
	}
	switch size {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(jd.bo.Uint16(b)), true
	case 4:
		return uint64(jd.bo.Uint32(b)), true
	case 8:
		return jd.bo.Uint64(b), true
	}
	return 0, false
}

func (jd *jsonDecoder) integer(t *btf.Int, b []byte) (any, error) {
	if t.Size == 16 && len(b) >= 16 {
		hi, lo := jd.bo.Uint64(b[8:]), jd.bo.Uint64(b)
		if isBigEndian(jd.bo) {
			hi, lo = lo, hi
		}
		if hi == 0 {
			return fmt.Sprintf("0x%x", lo), nil
		}
		return fmt.Sprintf("0x%x%016x", hi, lo), nil
	}
	v, ok := jd.uint(b, int(t.Size))
	if !ok {
		return nil, errJSONValue
	}
	switch t.Encoding {
	case btf.Signed:
		return json.Number(strconv.FormatInt(signExtend(v, int(t.Size)), 10)), nil
	case btf.Bool:
		return v != 0, nil
	case btf.Char:
		// One character; encoding/json escapes the unprintable ones
		// as bpftool does ("\u0001").
		return string(rune(byte(v))), nil
	}
	return json.Number(strconv.FormatUint(v, 10)), nil
}

// enum names a value by its enumerator, compared in the enum's size; a
// value without a name is printed signed, as bpftool does.
func (jd *jsonDecoder) enum(t *btf.Enum, b []byte) (any, error) {
	v, ok := jd.uint(b, int(t.Size))
	if !ok {
		return nil, errJSONValue
	}
	mask := ^uint64(0)
	if t.Size < 8 {
		mask = 1<<(8*t.Size) - 1
	}
	for _, ev := range t.Values {
		if ev.Value&mask == v {
			return ev.Name, nil
		}
	}
	return json.Number(strconv.FormatInt(signExtend(v, int(t.Size)), 10)), nil
}

func (jd *jsonDecoder) array(t *btf.Array, b []byte, depth int) (any, error) {
	if s, ok := cStringArray(t, b); ok {
		return s, nil
	}
	size, err := btf.Sizeof(t.Type)
	if err != nil {
		return nil, err
	}
	if uint64(size)*uint64(t.Nelems) > uint64(len(b)) {
		return nil, errJSONValue
	}
	elems := make([]any, 0, t.Nelems)
	for i := range int(t.Nelems) {
		v, err := jd.value(t.Type, b[i*size:(i+1)*size], depth+1)
		if err != nil {
			return nil, err
		}
		elems = append(elems, v)
	}
	return elems, nil
}

// cStringArray returns the string in a char array: elements of one byte
// named "char" (or of the char encoding), reached through qualifiers but
// not typedefs, printable up to a NUL inside the array.
func cStringArray(t *btf.Array, b []byte) (string, bool) {
	if t.Nelems == 0 || uint64(len(b)) < uint64(t.Nelems) {
		return "", false
	}
	elem := btf.QualifiedType(t.Type)
	i, ok := elem.(*btf.Int)
	if !ok || i.Size != 1 || i.Encoding != btf.Char && i.Name != "char" {
		return "", false
	}
	for n, c := range b[:t.Nelems] {
		if c == 0 {
			return string(b[:n]), true
		}
		if c <= 0x1f || c >= 0x7f {
			return "", false
		}
	}
	return "", false
}

func (jd *jsonDecoder) members(members []btf.Member, b []byte, depth int) (any, error) {
	obj := make(jsonObject, 0, len(members))
	for _, m := range members {
		start := uint64(m.Offset / 8)
		var v any
		var err error
		if m.BitfieldSize > 0 {
			v, err = jd.bitfield(m, b)
		} else {
			var size int
			size, err = btf.Sizeof(m.Type)
			if err == nil && start+uint64(size) > uint64(len(b)) {
				err = errJSONValue
			}
			if err == nil {
				v, err = jd.value(m.Type, b[start:start+uint64(size)], depth+1)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", m.Name, err)
		}
		obj = append(obj, jsonField{m.Name, v})
	}
	return obj, nil
}

// bitfield extracts a bitfield member as bpftool shows it: unsigned, in hex.
func (jd *jsonDecoder) bitfield(m btf.Member, b []byte) (any, error) {
	v, ok := bitfieldBits(m, b, jd.bo)
	if !ok {
		return nil, errJSONValue
	}
	return fmt.Sprintf("0x%x", v), nil
}
