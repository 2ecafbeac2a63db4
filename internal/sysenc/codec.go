package sysenc

import (
	"encoding"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"
)

// shape says where the bytes of a dynamic type are, relative to the data
// word of the interface holding it.
type shape uint8

const (
	shapeNone          shape = iota // nil interface
	shapeValue                      // a fixed-size value boxed in the interface (read-only)
	shapePointer                    // *T: the data word is the address of a T
	shapeSlice                      // []T: the data word points to the slice header
	shapeSlicePointer               // *[]T: the data word points to a slice header
	shapeUnsafe                     // unsafe.Pointer: raw memory of the expected size
	shapeString                     // string: its bytes (marshal only)
	shapeStringPointer              // *string (unmarshal only)
	shapeOther                      // anything else: custom or encoding/binary only
)

// Codec describes one dynamic type of an `any` argument: where its bytes
// are and whether the kernel may read or write them in place. Codecs are
// immutable and cached per type; get them from CodecOf or a Cache.
type Codec struct {
	typ   unsafe.Pointer // the interface's type word
	rtype reflect.Type
	shape shape

	// elem is the layout of T for *T, []T, *[]T and boxed T, or nil when
	// T has none (elemErr says why).
	elem    *Layout
	elemErr error

	marshaler   bool // implements encoding.BinaryMarshaler
	unmarshaler bool // implements encoding.BinaryUnmarshaler

	// source: the bytes may be handed to the kernel as they are (a layout
	// without holes and no MarshalBinary). sink: the kernel may write into
	// them (a layout and no UnmarshalBinary; holes don't matter).
	source, sink bool
	fixBools     bool

	// fastSource and fastSink are the size of T when the data word is the
	// address of the bytes and they may be read (boxed T, *T) or written
	// (*T) in place; -1 otherwise. They let Source and Sink be inlined.
	fastSource, fastSink int
}

// eface is the memory layout of an empty interface.
type eface struct {
	typ, data unsafe.Pointer
}

// sliceHeader is the memory layout of a slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

func typeWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }
func dataWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).data }

var (
	marshalerType   = reflect.TypeFor[encoding.BinaryMarshaler]()
	unmarshalerType = reflect.TypeFor[encoding.BinaryUnmarshaler]()

	codecs   sync.Map // type word -> *Codec
	nilCodec = &Codec{shape: shapeNone, fastSource: -1, fastSink: -1}
)

// CodecOf returns the codec of data's dynamic type. The first call for a
// type analyses it; later ones cost a map lookup.
func CodecOf(data any) *Codec {
	t := typeWord(data)
	if t == nil {
		return nilCodec
	}
	if c, ok := codecs.Load(t); ok {
		return c.(*Codec)
	}
	c := newCodec(reflect.TypeOf(data))
	c.typ = t
	actual, _ := codecs.LoadOrStore(t, c)
	return actual.(*Codec)
}

func newCodec(rt reflect.Type) *Codec {
	c := &Codec{
		rtype:       rt,
		marshaler:   rt.Implements(marshalerType),
		unmarshaler: rt.Implements(unmarshalerType),
		fastSource:  -1,
		fastSink:    -1,
	}
	var elem reflect.Type
	switch rt.Kind() {
	case reflect.UnsafePointer:
		c.shape = shapeUnsafe
	case reflect.String:
		c.shape = shapeString
	case reflect.Pointer:
		switch inner := rt.Elem(); inner.Kind() {
		case reflect.String:
			c.shape = shapeStringPointer
		case reflect.Slice:
			c.shape, elem = shapeSlicePointer, inner.Elem()
		default:
			c.shape, elem = shapePointer, inner
		}
	case reflect.Slice:
		c.shape, elem = shapeSlice, rt.Elem()
	case reflect.Bool, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128,
		reflect.Array, reflect.Struct:
		c.shape, elem = shapeValue, rt
	default:
		c.shape = shapeOther
	}
	if elem != nil {
		c.elem, c.elemErr = LayoutOf(elem)
	}
	if c.shape == shapeUnsafe {
		c.source, c.sink = true, true
	}
	if c.elem != nil {
		c.source = !c.marshaler && !c.elem.HasHoles()
		c.sink = !c.unmarshaler && c.shape != shapeValue
		c.fixBools = c.elem.HasBools()
		if c.source && (c.shape == shapeValue || c.shape == shapePointer) {
			c.fastSource = c.elem.size
		}
		if c.sink && c.shape == shapePointer && !c.fixBools {
			c.fastSink = c.elem.size
		}
	}
	return c
}

// Cache remembers the codec of the last type it was asked about, so that a
// map used with one key type finds its codec with one atomic load instead
// of a map lookup. The zero value is ready to use and safe for concurrent
// use.
type Cache struct {
	last atomic.Pointer[Codec]
}

// Codec returns the codec of data's dynamic type.
func (cc *Cache) Codec(data any) *Codec {
	if c := cc.last.Load(); c != nil && c.typ == typeWord(data) {
		return c
	}
	return cc.miss(data)
}

// Source is Codec(data).Source(data, size) in one call, for hot paths; it
// returns the codec for the fallback too.
func (cc *Cache) Source(data any, size int) (unsafe.Pointer, *Codec, bool) {
	c := cc.last.Load()
	if c == nil || c.typ != typeWord(data) {
		c = cc.miss(data)
	}
	if d := dataWord(data); c.fastSource == size && d != nil {
		return d, c, true
	}
	p, ok := c.direct(data, size, c.source)
	return p, c, ok
}

// Sink is Codec(data).Sink(data, size) in one call, for hot paths; it
// returns the codec for Finish or the fallback too.
func (cc *Cache) Sink(data any, size int) (unsafe.Pointer, *Codec, bool) {
	c := cc.last.Load()
	if c == nil || c.typ != typeWord(data) {
		c = cc.miss(data)
	}
	if d := dataWord(data); c.fastSink == size && d != nil {
		return d, c, true
	}
	p, ok := c.direct(data, size, c.sink)
	return p, c, ok
}

func (cc *Cache) miss(data any) *Codec {
	c := CodecOf(data)
	cc.last.Store(c)
	return c
}

// Type returns the dynamic type the codec describes, or nil for the nil
// interface.
func (c *Codec) Type() reflect.Type { return c.rtype }

// Source returns the address of data's bytes when the kernel can read
// exactly size bytes from there as they are: data holds a fixed-size value
// without holes (boxed, behind a pointer, or as a slice whose elements add
// up to size) or is an unsafe.Pointer, and has no MarshalBinary method.
// Otherwise it returns false and the caller falls back to Marshal.
//
// The address is only valid while data is.
func (c *Codec) Source(data any, size int) (unsafe.Pointer, bool) {
	if d := dataWord(data); c.fastSource == size && d != nil {
		return d, true
	}
	return c.direct(data, size, c.source)
}

// direct is the slow path of Source and Sink (ok says whether the codec
// allows the direction): the address and length of data's memory, if the
// kernel can use exactly size bytes there.
func (c *Codec) direct(data any, size int, ok bool) (unsafe.Pointer, bool) {
	if !ok {
		return nil, false
	}
	p, n := c.memory(data)
	if n != size && c.shape != shapeUnsafe {
		return nil, false
	}
	if p == nil && size > 0 {
		return nil, false
	}
	return p, true
}

// Sink returns the address the kernel may write exactly size bytes to so
// that they end up in data: data is a non-nil pointer to a fixed-size type
// of size bytes, a slice (or pointer to a slice) of such types whose length
// adds up to size, or an unsafe.Pointer, and has no UnmarshalBinary method.
// After the kernel wrote, call Finish. Otherwise Sink returns false and the
// caller lets the kernel write into a scratch buffer and calls Unmarshal.
func (c *Codec) Sink(data any, size int) (unsafe.Pointer, bool) {
	if d := dataWord(data); c.fastSink == size && d != nil {
		return d, true
	}
	return c.direct(data, size, c.sink)
}

// Finish makes the size bytes the kernel wrote at p, an address returned by
// Sink, valid Go values: bools become 0 or 1. It does nothing for types
// without bools.
func (c *Codec) Finish(p unsafe.Pointer, size int) {
	if !c.fixBools || size == 0 {
		return
	}
	c.finishSlow(p, size)
}

func (c *Codec) finishSlow(p unsafe.Pointer, size int) {
	b := unsafe.Slice((*byte)(p), size)
	for esize := c.elem.size; len(b) >= esize && esize > 0; b = b[esize:] {
		c.elem.FixBools(b)
	}
}

// memory returns the address and length in bytes of the fixed-size values
// data holds, or nil and -1 when it holds none (including nil pointers).
func (c *Codec) memory(data any) (unsafe.Pointer, int) {
	d := dataWord(data)
	switch c.shape {
	case shapeValue:
		if c.elem != nil {
			return d, c.elem.size
		}
	case shapePointer:
		if c.elem != nil && d != nil {
			return d, c.elem.size
		}
	case shapeSlice:
		if c.elem != nil {
			h := (*sliceHeader)(d)
			return h.data, h.len * c.elem.size
		}
	case shapeSlicePointer:
		if c.elem != nil && d != nil {
			h := (*sliceHeader)(d)
			return h.data, h.len * c.elem.size
		}
	case shapeUnsafe:
		return d, -1
	}
	return nil, -1
}
