package btf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unsafe"
)

// stringTable is the string section of one BTF blob. Split BTF continues
// the offsets of its base: offsets below start belong to base.
//
// Names handed out by lookup alias data instead of copying it: data is
// either heap memory, kept alive by the strings that point into it, or a
// read-only mapping of kernel BTF that is never unmapped (see mmap.go).
type stringTable struct {
	base  *stringTable
	start uint32
	data  []byte
}

var errStringOffset = errors.New("string offset out of bounds")

func newStringTable(data []byte, base *stringTable) (*stringTable, error) {
	st := &stringTable{base: base, data: data}
	if base != nil {
		st.start = base.start + uint32(len(base.data))
	}
	if len(data) == 0 {
		return st, nil
	}
	if base == nil && data[0] != 0 {
		return nil, errors.New("string section does not start with an empty string")
	}
	if data[len(data)-1] != 0 {
		return nil, errors.New("string section is not NUL-terminated")
	}
	return st, nil
}

// lookupBytes returns the string at off without its NUL and without
// allocating.
func (st *stringTable) lookupBytes(off uint32) ([]byte, error) {
	if st.base == nil && off != 0 && uint64(off) < uint64(len(st.data)) {
		// The common case: a name in a table without a base.
		s := st.data[off:]
		if end := cstringLen(s); end >= 0 {
			return s[:end:end], nil
		}
	}
	for st.base != nil && off < st.start {
		st = st.base
	}
	if off == 0 && st.base == nil {
		return nil, nil
	}
	rel := uint64(off) - uint64(st.start)
	if off < st.start || rel >= uint64(len(st.data)) {
		return nil, fmt.Errorf("%w: %d", errStringOffset, off)
	}
	s := st.data[rel:]
	end := cstringLen(s)
	if end < 0 {
		return nil, fmt.Errorf("%w: %d: no terminating NUL", errStringOffset, off)
	}
	return s[:end:end], nil
}

// cstringLen returns the index of the first NUL in s, or -1. Names are
// short: eight bytes at a time beats bytes.IndexByte's setup cost.
func cstringLen(s []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := binary.LittleEndian.Uint64(s[i:])
		if z := (v - ones) & ^v & highs; z != 0 {
			return i + bits.TrailingZeros64(z)/8
		}
	}
	if j := bytes.IndexByte(s[i:], 0); j >= 0 {
		return i + j
	}
	return -1
}

// lookup returns the string at off.
func (st *stringTable) lookup(off uint32) (string, error) {
	b, err := st.lookupBytes(off)
	if err != nil || len(b) == 0 {
		return "", err
	}
	return unsafe.String(&b[0], len(b)), nil
}

// stringTableBuilder writes a string section, storing each distinct string
// once. Offset 0 is the empty string.
type stringTableBuilder struct {
	offsets map[string]uint32
	data    []byte
}

func newStringTableBuilder(capacity int) *stringTableBuilder {
	stb := &stringTableBuilder{offsets: make(map[string]uint32, capacity), data: make([]byte, 1, 1+capacity*8)}
	stb.offsets[""] = 0
	return stb
}

// add returns the offset of s, appending it if it is new.
func (stb *stringTableBuilder) add(s string) (uint32, error) {
	if off, ok := stb.offsets[s]; ok {
		return off, nil
	}
	if uint64(len(stb.data))+uint64(len(s))+1 > btfMaxNameOffset+1 {
		return 0, fmt.Errorf("string table exceeds %d bytes", btfMaxNameOffset)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return 0, fmt.Errorf("string %q contains a NUL byte", s)
	}
	off := uint32(len(stb.data))
	stb.data = append(stb.data, s...)
	stb.data = append(stb.data, 0)
	stb.offsets[s] = off
	return off, nil
}

func (stb *stringTableBuilder) length() int { return len(stb.data) }
