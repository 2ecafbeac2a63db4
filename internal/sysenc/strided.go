package sysenc

import (
	"fmt"
	"reflect"
	"unsafe"
)

// SliceLen returns the length of data if it is a slice, or of the slice
// data points to if it is a pointer to one.
func SliceLen(data any) (int, bool) {
	c := CodecOf(data)
	switch c.shape {
	case shapeSlice:
		return (*sliceHeader)(dataWord(data)).len, true
	case shapeSlicePointer:
		if h := (*sliceHeader)(dataWord(data)); h != nil {
			return h.len, true
		}
		return 0, true
	}
	if c.rtype != nil && c.rtype.Kind() == reflect.Slice {
		return reflect.ValueOf(data).Len(), true
	}
	return 0, false
}

// MarshalStrided encodes the elements of slice (a []T or []*T) into dst,
// size bytes each and stride bytes apart: element i goes to
// dst[i*stride:i*stride+size]. This is the layout of per-CPU values, whose
// elements the kernel aligns to 8 bytes. Bytes between elements are left
// as they are; dst must hold len(slice)*stride bytes.
func MarshalStrided(dst []byte, slice any, size, stride int) error {
	c := CodecOf(slice)
	if c.shape != shapeSlice {
		return fmt.Errorf("%v is not a slice", c.rtype)
	}
	n := (*sliceHeader)(dataWord(slice)).len
	if len(dst) < n*stride {
		return fmt.Errorf("%d elements need %d bytes, have %d", n, n*stride, len(dst))
	}

	if c.elem != nil && !c.elemMarshaler() {
		if c.elem.size != size {
			return fmt.Errorf("element %s is %d bytes, want %d", c.rtype.Elem(), c.elem.size, size)
		}
		src := unsafe.Slice((*byte)((*sliceHeader)(dataWord(slice)).data), n*size)
		for i := 0; i < n; i++ {
			e := dst[i*stride : i*stride+size]
			copy(e, src[i*size:])
			c.elem.ZeroHoles(e)
		}
		return nil
	}

	v := reflect.ValueOf(slice)
	for i := 0; i < n; i++ {
		buf, err := Marshal(elemInterface(v.Index(i)), size)
		if err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		copy(dst[i*stride:i*stride+size], buf.Bytes())
	}
	return nil
}

// UnmarshalStrided decodes src, elements of size bytes placed stride bytes
// apart, into slice: a []T, or a []*T whose nil elements are allocated.
// slice must have exactly len(src)/stride elements.
func UnmarshalStrided(slice any, src []byte, size, stride int) error {
	c := CodecOf(slice)
	if c.shape != shapeSlice {
		return fmt.Errorf("%v is not a slice", c.rtype)
	}
	n := (*sliceHeader)(dataWord(slice)).len
	if stride <= 0 || len(src)%stride != 0 || len(src)/stride != n {
		return fmt.Errorf("%s has %d elements, want %d", c.rtype, n, len(src)/max(stride, 1))
	}

	if c.elem != nil && !c.elemUnmarshaler() {
		if c.elem.size != size {
			return fmt.Errorf("element %s is %d bytes, want %d", c.rtype.Elem(), c.elem.size, size)
		}
		dst := unsafe.Slice((*byte)((*sliceHeader)(dataWord(slice)).data), n*size)
		for i := 0; i < n; i++ {
			e := dst[i*size : (i+1)*size]
			copy(e, src[i*stride:])
			c.elem.FixBools(e)
		}
		return nil
	}

	v := reflect.ValueOf(slice)
	for i := 0; i < n; i++ {
		ev := v.Index(i)
		if ev.Kind() == reflect.Pointer && ev.IsNil() {
			ev.Set(reflect.New(ev.Type().Elem()))
		}
		if err := Unmarshal(elemInterface(ev), src[i*stride:i*stride+size]); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
	}
	return nil
}

// elemInterface returns a slice element in the form Marshal and Unmarshal
// take: a pointer element as it is, any other as a pointer to it.
func elemInterface(ev reflect.Value) any {
	if ev.Kind() == reflect.Pointer {
		return ev.Interface()
	}
	return ev.Addr().Interface()
}

// elemMarshaler reports whether the elements of a slice type have a
// MarshalBinary method, which takes precedence over their layout.
func (c *Codec) elemMarshaler() bool {
	e := c.rtype.Elem()
	return e.Implements(marshalerType) || reflect.PointerTo(e).Implements(marshalerType)
}

func (c *Codec) elemUnmarshaler() bool {
	return reflect.PointerTo(c.rtype.Elem()).Implements(unmarshalerType)
}
