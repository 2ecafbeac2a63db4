package btf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

//go:generate go run ../internal/cmd/genbtf ../internal/cmd/uapi/bpf-uapi.h wire_gen.go

// This file reads and writes the fixed parts of the BTF wire format. Record
// sizes and field offsets come from wire_gen.go (generated from the UAPI
// header); only the bit layout of btf_type.info and of INT's extra word,
// which linux/btf.h expresses as macros, is spelled out here.

// btfKind is a BTF_KIND_* value.
type btfKind uint8

func (k btfKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("KIND_%d", uint8(k))
}

// The bits of btf_type.info (BTF_INFO_KIND, BTF_INFO_VLEN, BTF_INFO_KFLAG).
const (
	infoVlenMask  = 0xffff
	infoKindShift = 24
	infoKindMask  = 0x1f
	infoFlagShift = 31
)

func infoKind(info uint32) btfKind { return btfKind(info >> infoKindShift & infoKindMask) }
func infoVlen(info uint32) int     { return int(info & infoVlenMask) }
func infoFlag(info uint32) bool    { return info>>infoFlagShift != 0 }

func makeInfo(kind btfKind, vlen int, flag bool) uint32 {
	info := uint32(kind)<<infoKindShift | uint32(vlen)&infoVlenMask
	if flag {
		info |= 1 << infoFlagShift
	}
	return info
}

// The word after an INT's btf_type (BTF_INT_ENCODING, _OFFSET, _BITS).
func intEncoding(v uint32) IntEncoding { return IntEncoding(v >> 24 & 0x0f) }
func intOffset(v uint32) uint32        { return v >> 16 & 0xff }
func intBits(v uint32) uint32          { return v & 0xff }

// A struct member's offset word when the struct's kind_flag is set
// (BTF_MEMBER_BITFIELD_SIZE, BTF_MEMBER_BIT_OFFSET).
func memberBitfieldSize(v uint32) Bits { return Bits(v >> 24) }
func memberBitOffset(v uint32) Bits    { return Bits(v & 0xffffff) }

// kindLayout is what a newer header's kind layout section says about a
// kind: the size of the single record after btf_type and of each of the
// vlen records.
type kindLayout struct {
	infoSize, elemSize uint8
}

// dataLen is the number of bytes that follow the btf_type of a type of
// kind with vlen. ok is false for kinds this package does not know.
func dataLen(kind btfKind, vlen int) (n int, ok bool) {
	switch kind {
	case kindPtr, kindFwd, kindTypedef, kindVolatile, kindConst, kindRestrict,
		kindFunc, kindFloat, kindTypeTag:
		return 0, true
	case kindInt:
		return 4, true
	case kindArray:
		return btfArraySize, true
	case kindStruct, kindUnion:
		return vlen * btfMemberSize, true
	case kindEnum:
		return vlen * btfEnumSize, true
	case kindFuncProto:
		return vlen * btfParamSize, true
	case kindVar:
		return btfVarSize, true
	case kindDatasec:
		return vlen * btfVarSecinfoSize, true
	case kindDeclTag:
		return btfDeclTagSize, true
	case kindEnum64:
		return vlen * btfEnum64Size, true
	}
	return 0, false
}

// byteOrder reads integers without an interface call: BTF decoding reads
// hundreds of thousands of words, so the order is a bool.
type byteOrder struct{ big bool }

func (o byteOrder) u16(b []byte) uint16 {
	if o.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (o byteOrder) u32(b []byte) uint32 {
	if o.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (o byteOrder) std() binary.ByteOrder {
	if o.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func orderOf(bo binary.ByteOrder) (byteOrder, error) {
	switch bo.Uint16([]byte{0x12, 0x34}) {
	case 0x1234:
		return byteOrder{big: true}, nil
	case 0x3412:
		return byteOrder{}, nil
	}
	return byteOrder{}, fmt.Errorf("unsupported byte order %v", bo)
}

// btfHeader is a decoded struct btf_header.
type btfHeader struct {
	order   byteOrder
	version uint8
	flags   uint8
	hdrLen  uint32
	typeOff uint32
	typeLen uint32
	strOff  uint32
	strLen  uint32
	// layouts is the optional kind layout section of newer headers,
	// indexed by kind.
	layouts []kindLayout
}

var errBadMagic = errors.New("not BTF: bad magic")

// sniffOrder tells the byte order of a BTF blob from its magic.
func sniffOrder(raw []byte) (byteOrder, bool) {
	if len(raw) < 2 {
		return byteOrder{}, false
	}
	switch {
	case binary.LittleEndian.Uint16(raw) == btfMagic:
		return byteOrder{}, true
	case binary.BigEndian.Uint16(raw) == btfMagic:
		return byteOrder{big: true}, true
	}
	return byteOrder{}, false
}

// The fields a header longer than struct btf_header may carry after
// str_len: the offset and length of the kind layout section, whose entries
// are {flags, info_sz, elem_sz} bytes, one per kind.
const (
	hdrKindLayoutOffOff = btfHeaderSize
	hdrKindLayoutLenOff = btfHeaderSize + 4
	kindLayoutEntrySize = 3
)

// parseHeader decodes and checks the header of raw BTF and returns it with
// the type and string sections.
func parseHeader(raw []byte) (hdr btfHeader, types, strs []byte, err error) {
	order, ok := sniffOrder(raw)
	if !ok {
		return hdr, nil, nil, errBadMagic
	}
	if len(raw) < btfHeaderSize {
		return hdr, nil, nil, fmt.Errorf("header: %d bytes, want at least %d", len(raw), btfHeaderSize)
	}
	hdr = btfHeader{
		order:   order,
		version: raw[btfHeaderVersionOff],
		flags:   raw[btfHeaderFlagsOff],
		hdrLen:  order.u32(raw[btfHeaderHdrLenOff:]),
		typeOff: order.u32(raw[btfHeaderTypeOffOff:]),
		typeLen: order.u32(raw[btfHeaderTypeLenOff:]),
		strOff:  order.u32(raw[btfHeaderStrOffOff:]),
		strLen:  order.u32(raw[btfHeaderStrLenOff:]),
	}
	if hdr.version != 1 {
		return hdr, nil, nil, fmt.Errorf("header: unsupported version %d", hdr.version)
	}
	if hdr.hdrLen < btfHeaderSize || uint64(hdr.hdrLen) > uint64(len(raw)) {
		return hdr, nil, nil, fmt.Errorf("header: hdr_len %d out of bounds (blob has %d bytes)", hdr.hdrLen, len(raw))
	}
	body := raw[hdr.hdrLen:]
	section := func(name string, off, length uint32) ([]byte, error) {
		end := uint64(off) + uint64(length)
		if end > uint64(len(body)) {
			return nil, fmt.Errorf("header: %s section [%d, %d) beyond the %d bytes after the header", name, off, end, len(body))
		}
		return body[off:end:end], nil
	}
	if types, err = section("type", hdr.typeOff, hdr.typeLen); err != nil {
		return hdr, nil, nil, err
	}
	if strs, err = section("string", hdr.strOff, hdr.strLen); err != nil {
		return hdr, nil, nil, err
	}
	if hdr.typeOff%4 != 0 {
		return hdr, nil, nil, fmt.Errorf("header: type section offset %d not 4-byte aligned", hdr.typeOff)
	}

	// A newer kernel's header may be longer. Fields we do not know must be
	// zero (the kernel's own rule), except for the kind layout section,
	// which lets us skip kinds we do not know.
	extra := raw[btfHeaderSize:hdr.hdrLen]
	if hdr.hdrLen >= hdrKindLayoutLenOff+4 {
		off, length := order.u32(raw[hdrKindLayoutOffOff:]), order.u32(raw[hdrKindLayoutLenOff:])
		if length != 0 {
			sec, err := section("kind layout", off, length)
			if err != nil {
				return hdr, nil, nil, err
			}
			if length%kindLayoutEntrySize != 0 {
				return hdr, nil, nil, fmt.Errorf("header: kind layout length %d not a multiple of %d", length, kindLayoutEntrySize)
			}
			for i := 0; i+kindLayoutEntrySize <= len(sec); i += kindLayoutEntrySize {
				hdr.layouts = append(hdr.layouts, kindLayout{infoSize: sec[i+1], elemSize: sec[i+2]})
			}
		}
		extra = raw[hdrKindLayoutLenOff+4 : hdr.hdrLen]
	}
	for i, b := range extra {
		if b != 0 {
			return hdr, nil, nil, fmt.Errorf("header: unknown non-zero header byte at offset %d (hdr_len %d)", int(hdr.hdrLen)-len(extra)+i, hdr.hdrLen)
		}
	}
	return hdr, types, strs, nil
}
