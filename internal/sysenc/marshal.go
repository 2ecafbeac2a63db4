package sysenc

import (
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/bpfkit/ebpf/internal"
)

// Buffer is the marshaled form of a value: either a view of the value's own
// memory (zero copy) or a copy. It is valid as long as the value it came
// from; the kernel may only read it.
type Buffer struct {
	ptr unsafe.Pointer
	len int
}

// Pointer returns the address of the bytes, nil for an empty buffer.
func (b Buffer) Pointer() unsafe.Pointer { return b.ptr }

// Len returns the number of bytes.
func (b Buffer) Len() int { return b.len }

// Bytes returns the bytes as a slice that aliases the buffer.
func (b Buffer) Bytes() []byte {
	if b.ptr == nil || b.len == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(b.ptr), b.len)
}

// Marshal returns the size bytes the kernel should see for data, in the
// host's byte order. It does not copy or allocate when Codec.Source
// succeeds; otherwise it copies (zeroing padding), calls MarshalBinary, or
// falls back to encoding/binary when the packed size of data is size.
// Strings marshal to their bytes.
//
// It fails, naming the type, if data is nil, has no fixed size, or doesn't
// have size bytes.
//
// data escapes to the heap like any argument passed to MarshalBinary; a hot
// path that doesn't keep the Buffer past its own return may pass
// NoEscape(data) instead.
func Marshal(data any, size int) (Buffer, error) {
	c := CodecOf(data)
	if p, ok := c.Source(data, size); ok {
		return Buffer{p, size}, nil
	}
	return c.Marshal(data, size)
}

// Marshal is the copying half of the package function Marshal, for callers
// that tried Source first.
func (c *Codec) Marshal(data any, size int) (Buffer, error) {
	switch c.shape {
	case shapeNone:
		return Buffer{}, errors.New("can't marshal a nil value")
	case shapeString:
		s := data.(string)
		if len(s) != size {
			return Buffer{}, fmt.Errorf("string of %d bytes doesn't marshal to %d bytes", len(s), size)
		}
		return Buffer{unsafe.Pointer(unsafe.StringData(s)), size}, nil
	case shapeUnsafe:
		if dataWord(data) == nil {
			return Buffer{}, errors.New("can't marshal a nil unsafe.Pointer")
		}
		return Buffer{dataWord(data), size}, nil
	}

	if c.marshaler {
		if isNilPointer(data) {
			return Buffer{}, fmt.Errorf("can't marshal a nil %s", c.rtype)
		}
		b, err := data.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return Buffer{}, fmt.Errorf("%s: MarshalBinary: %w", c.rtype, err)
		}
		if len(b) != size {
			return Buffer{}, fmt.Errorf("%s marshals to %d bytes, want %d", c.rtype, len(b), size)
		}
		return bufferOf(b), nil
	}

	if c.elem != nil {
		p, n := c.memory(data)
		if p == nil && n < 0 {
			return Buffer{}, fmt.Errorf("can't marshal a nil %s", c.rtype)
		}
		if n == size {
			b := make([]byte, size)
			copy(b, unsafe.Slice((*byte)(p), n))
			for e, esize := b, c.elem.size; esize > 0 && len(e) >= esize; e = e[esize:] {
				c.elem.ZeroHoles(e)
			}
			return bufferOf(b), nil
		}
	}

	// Packed encoding, for types whose C counterpart has no padding
	// where Go has some, or whose size differs only by trailing padding.
	if bs := binary.Size(data); bs >= 0 && bs == size {
		b, err := binary.Append(make([]byte, 0, size), internal.NativeEndian, data)
		if err == nil && len(b) == size {
			return bufferOf(b), nil
		}
	}
	return Buffer{}, c.sizeError(data, size)
}

func bufferOf(b []byte) Buffer {
	if len(b) == 0 {
		return Buffer{}
	}
	return Buffer{unsafe.Pointer(&b[0]), len(b)}
}

// sizeError explains why data can't be (un)marshaled as size bytes.
func (c *Codec) sizeError(data any, size int) error {
	if c.elemErr != nil {
		return fmt.Errorf("can't use %s as %d bytes: %w", c.rtype, size, c.elemErr)
	}
	if c.shape == shapeOther {
		return fmt.Errorf("can't use %s as %d bytes: %w: %s is not a fixed-size type", c.rtype, size, ErrNoLayout, c.rtype)
	}
	if _, n := c.memory(data); n >= 0 {
		if c.shape == shapeSlice || c.shape == shapeSlicePointer {
			return fmt.Errorf("%s of %d bytes (%d elements of %d) doesn't match size %d", c.rtype, n, n/max(c.elem.size, 1), c.elem.size, size)
		}
		return fmt.Errorf("%s is %d bytes, want %d", c.rtype, n, size)
	}
	return fmt.Errorf("can't use %s as %d bytes", c.rtype, size)
}

// Unmarshal decodes buf, in the host's byte order, into data: a pointer to
// a fixed-size type of len(buf) bytes, a slice of such types adding up to
// len(buf), a pointer to a slice (filled in place when its length fits,
// replaced by a new slice otherwise), a *string, an unsafe.Pointer to
// len(buf) bytes of memory, or an encoding.BinaryUnmarshaler. Types whose
// packed size (encoding/binary) is len(buf) are decoded with
// encoding/binary. Bools are normalised to 0 or 1.
func Unmarshal(data any, buf []byte) error {
	return CodecOf(data).Unmarshal(data, buf)
}

// Unmarshal is Unmarshal for data of the codec's type.
func (c *Codec) Unmarshal(data any, buf []byte) error {
	switch {
	case c.shape == shapeNone:
		return errors.New("can't unmarshal into a nil value")
	case c.unmarshaler:
		if isNilPointer(data) {
			return fmt.Errorf("can't unmarshal into a nil %s", c.rtype)
		}
		if err := data.(encoding.BinaryUnmarshaler).UnmarshalBinary(buf); err != nil {
			return fmt.Errorf("%s: UnmarshalBinary: %w", c.rtype, err)
		}
		return nil
	case c.shape == shapeStringPointer:
		p := (*string)(dataWord(data))
		if p == nil {
			return errors.New("can't unmarshal into a nil *string")
		}
		*p = string(buf)
		return nil
	case c.shape == shapeUnsafe:
		p := dataWord(data)
		if p == nil {
			return errors.New("can't unmarshal into a nil unsafe.Pointer")
		}
		copy(unsafe.Slice((*byte)(p), len(buf)), buf)
		return nil
	case c.shape == shapeValue && c.elem != nil:
		return fmt.Errorf("can't unmarshal into %s: need a pointer", c.rtype)
	}

	if c.elem != nil {
		p, n := c.memory(data)
		if n == len(buf) && (p != nil || n == 0) {
			copy(unsafe.Slice((*byte)(p), n), buf)
			c.Finish(p, n)
			return nil
		}
		if c.shape == shapeSlicePointer && dataWord(data) != nil {
			return c.replaceSlice(data, buf)
		}
		if p == nil && n < 0 {
			return fmt.Errorf("can't unmarshal into a nil %s", c.rtype)
		}
	}

	if bs := binary.Size(data); bs >= 0 && bs == len(buf) && !isNilPointer(data) {
		n, err := binary.Decode(buf, internal.NativeEndian, data)
		if err != nil {
			return fmt.Errorf("decode %s: %w", c.rtype, err)
		}
		if n != len(buf) {
			return fmt.Errorf("decode %s: used %d of %d bytes", c.rtype, n, len(buf))
		}
		return nil
	}
	return c.sizeError(data, len(buf))
}

// replaceSlice points the slice that data (a *[]T) refers to at a new slice
// holding buf.
func (c *Codec) replaceSlice(data any, buf []byte) error {
	esize := c.elem.size
	if esize == 0 || len(buf)%esize != 0 {
		return fmt.Errorf("%d bytes are not a whole number of %s elements (%d bytes each)", len(buf), c.rtype.Elem().Elem(), esize)
	}
	s := reflect.MakeSlice(c.rtype.Elem(), len(buf)/esize, len(buf)/esize)
	p := s.UnsafePointer()
	copy(unsafe.Slice((*byte)(p), len(buf)), buf)
	c.Finish(p, len(buf))
	reflect.ValueOf(data).Elem().Set(s)
	return nil
}

func isNilPointer(data any) bool {
	v := reflect.ValueOf(data)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
