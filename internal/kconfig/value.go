package kconfig

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Kind is the C type family of a .kconfig extern, as libbpf classifies it.
type Kind uint8

const (
	// Int is a signed or unsigned integer of 1, 2, 4 or 8 bytes; it takes
	// numbers.
	Int Kind = iota + 1
	// Bool is C's bool (1 byte); it takes y or n.
	Bool
	// Tristate is enum libbpf_tristate (TRI_NO = 0, TRI_YES = 1,
	// TRI_MODULE = 2); it takes y, m or n.
	Tristate
	// Char is a single char; it takes y, m or n as that letter, or a
	// number that fits a byte.
	Char
	// CharArray is char[Size]; it takes a quoted string, NUL-padded, that
	// leaves room for at least one NUL.
	CharArray
)

func (k Kind) String() string {
	switch k {
	case Int:
		return "int"
	case Bool:
		return "bool"
	case Tristate:
		return "tristate"
	case Char:
		return "char"
	case CharArray:
		return "char array"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Type describes the C type of a .kconfig extern. The loader builds it from
// the extern's BTF type.
type Type struct {
	Kind Kind
	// Size in bytes; for CharArray the number of elements.
	Size int
	// Signed integers (Kind Int) accept negative values.
	Signed bool
}

func (t Type) String() string {
	switch t.Kind {
	case Int:
		if t.Signed {
			return fmt.Sprintf("s%d", t.Size*8)
		}
		return fmt.Sprintf("u%d", t.Size*8)
	case CharArray:
		return fmt.Sprintf("char[%d]", t.Size)
	}
	return t.Kind.String()
}

func (t Type) check() error {
	switch t.Kind {
	case Int, Tristate:
		switch t.Size {
		case 1, 2, 4, 8:
			return nil
		}
	case Bool, Char:
		if t.Size == 1 {
			return nil
		}
	case CharArray:
		if t.Size > 0 {
			return nil
		}
	default:
		return fmt.Errorf("unknown kconfig kind %d", uint8(t.Kind))
	}
	return fmt.Errorf("%s of %d bytes is not supported", t.Kind, t.Size)
}

// Tristate values of enum libbpf_tristate.
const (
	TriNo     = 0
	TriYes    = 1
	TriModule = 2
)

// PutValue writes value, a raw value as returned by Parse, into data as the
// C type typ in byte order bo. data must be exactly typ.Size bytes. It
// fails without writing when the value does not fit the type: m for a bool,
// a string for an integer, a number out of range, a string without room for
// its terminating NUL. It does not allocate unless the string has escapes.
func PutValue(data []byte, typ Type, value string, bo binary.ByteOrder) error {
	if err := typ.check(); err != nil {
		return err
	}
	if len(data) != typ.Size {
		return fmt.Errorf("%s: have %d bytes of data, want %d", typ, len(data), typ.Size)
	}

	switch {
	case value == "y" || value == "m" || value == "n":
		return putLetter(data, typ, value[0], bo)
	case len(value) > 0 && value[0] == '"':
		return putString(data, typ, value)
	}

	neg, mag, err := parseNumber(value)
	if err != nil {
		return fmt.Errorf("value %.64q: %w", value, err)
	}
	return putNumber(data, typ, neg, mag, bo)
}

// PutUint writes v into data as the C type typ in byte order bo, for
// externs the loader computes itself (LINUX_KERNEL_VERSION). Bool takes 0
// or 1; the range rules of PutValue apply.
func PutUint(data []byte, typ Type, v uint64, bo binary.ByteOrder) error {
	if err := typ.check(); err != nil {
		return err
	}
	if len(data) != typ.Size {
		return fmt.Errorf("%s: have %d bytes of data, want %d", typ, len(data), typ.Size)
	}
	if typ.Kind == Bool {
		if v > 1 {
			return fmt.Errorf("value %d does not fit bool", v)
		}
		data[0] = byte(v)
		return nil
	}
	return putNumber(data, typ, false, v, bo)
}

func putLetter(data []byte, typ Type, letter byte, bo binary.ByteOrder) error {
	switch typ.Kind {
	case Bool:
		switch letter {
		case 'y':
			data[0] = 1
		case 'n':
			data[0] = 0
		default:
			return fmt.Errorf("value %c does not fit bool: only y and n do", letter)
		}
		return nil
	case Tristate:
		v := uint64(TriNo)
		switch letter {
		case 'y':
			v = TriYes
		case 'm':
			v = TriModule
		}
		putUint(data, v, bo)
		return nil
	case Char:
		data[0] = letter
		return nil
	}
	return fmt.Errorf("value %c does not fit %s: only bool, tristate and char take y/m/n", letter, typ)
}

func putString(data []byte, typ Type, value string) error {
	if typ.Kind != CharArray {
		return fmt.Errorf("string value %.64q does not fit %s", value, typ)
	}
	s, err := unquote([]byte(value))
	if err != nil {
		return err
	}
	if len(s) >= len(data) {
		return fmt.Errorf("string %.64q of %d bytes does not fit %s with its NUL", value, len(s), typ)
	}
	n := copy(data, s)
	clear(data[n:])
	return nil
}

func putNumber(data []byte, typ Type, neg bool, mag uint64, bo binary.ByteOrder) error {
	bits := uint(typ.Size * 8)
	fits := false
	switch {
	case typ.Kind == Char:
		// libbpf stores any number into a char; we insist it fits a byte,
		// signed or not.
		fits = (!neg && mag <= 0xff) || (neg && mag <= 0x80)
	case typ.Kind != Int:
		return fmt.Errorf("number does not fit %s", typ)
	case !typ.Signed:
		fits = !neg || mag == 0
		if bits < 64 {
			fits = fits && mag>>bits == 0
		}
	case neg:
		fits = mag <= 1<<(bits-1)
	default:
		fits = mag < 1<<(bits-1)
	}
	if !fits {
		sign := ""
		if neg {
			sign = "-"
		}
		return fmt.Errorf("value %s%d out of range of %s", sign, mag, typ)
	}
	v := mag
	if neg {
		v = -mag
	}
	putUint(data, v, bo)
	return nil
}

// putUint stores the low len(data) bytes of v.
func putUint(data []byte, v uint64, bo binary.ByteOrder) {
	switch len(data) {
	case 1:
		data[0] = byte(v)
	case 2:
		bo.PutUint16(data, uint16(v))
	case 4:
		bo.PutUint32(data, uint32(v))
	case 8:
		bo.PutUint64(data, v)
	}
}

// parseNumber reads an integer the way C's strtoull/strtoll do with base 0,
// as libbpf does: an optional '-', then 0x/0X for hexadecimal, a leading 0
// for octal, decimal otherwise. It returns the sign and magnitude.
func parseNumber(s string) (neg bool, mag uint64, err error) {
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return false, 0, fmt.Errorf("not a number")
	}
	mag, err = strconv.ParseUint(s, base, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok {
			err = ne.Err
		}
		return false, 0, err
	}
	return neg, mag, nil
}
