package sysenc

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// ErrNoLayout is wrapped by the errors of LayoutOf: the type has no
// fixed-size memory layout the kernel could read.
var ErrNoLayout = errors.New("no fixed-size layout")

// Layout is the memory layout of a fixed-size Go type as the kernel sees
// it. It is immutable and shared; LayoutOf caches one per type.
type Layout struct {
	size  int
	holes []span   // padding bytes, sorted and merged
	bools []uint32 // offsets of bool bytes, ascending
}

// span is a byte range [off, off+len).
type span struct{ off, len uint32 }

// Size returns the size of the type in bytes, padding included: the size
// of the equivalent C type.
func (l *Layout) Size() int { return l.size }

// HasHoles reports whether the type has padding bytes, whose contents Go
// leaves undefined. Such values are copied, with the holes zeroed, before
// the kernel sees them.
func (l *Layout) HasHoles() bool { return len(l.holes) > 0 }

// HasBools reports whether the type contains bools, which must be 0 or 1
// in Go: bytes written by the kernel are normalised.
func (l *Layout) HasBools() bool { return len(l.bools) > 0 }

// ZeroHoles clears the padding bytes of a value with this layout in b,
// which must be at least Size bytes long.
func (l *Layout) ZeroHoles(b []byte) {
	for _, h := range l.holes {
		clear(b[h.off : h.off+h.len])
	}
}

// FixBools turns every non-zero bool byte of a value with this layout in b
// into 1, so that the Go value is a valid bool. b must be at least Size
// bytes long.
func (l *Layout) FixBools(b []byte) {
	for _, off := range l.bools {
		if b[off] > 1 {
			b[off] = 1
		}
	}
}

var layouts sync.Map // reflect.Type -> layoutResult

type layoutResult struct {
	layout *Layout
	err    error
}

// LayoutOf returns the layout of t, or an error wrapping ErrNoLayout that
// names the first field that has none. The analysis walks the type once;
// later calls cost a map lookup.
func LayoutOf(t reflect.Type) (*Layout, error) {
	if r, ok := layouts.Load(t); ok {
		res := r.(layoutResult)
		return res.layout, res.err
	}
	var b layoutBuilder
	err := b.add(t, 0, "")
	var res layoutResult
	if err != nil {
		res.err = fmt.Errorf("%s: %w", t, err)
	} else {
		res.layout = b.finish(int(t.Size()))
	}
	r, _ := layouts.LoadOrStore(t, res)
	res = r.(layoutResult)
	return res.layout, res.err
}

type layoutBuilder struct {
	covered []span // bytes that belong to a field, in the order added
	bools   []uint32
}

// add records the bytes of a value of type t at off. path names the field
// for error messages.
func (b *layoutBuilder) add(t reflect.Type, off uint32, path string) error {
	switch t.Kind() {
	case reflect.Bool:
		b.bools = append(b.bools, off)
		b.cover(off, 1)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		b.cover(off, uint32(t.Size()))
	case reflect.Array:
		elem := t.Elem()
		n := t.Len()
		if n == 0 || elem.Size() == 0 {
			// Still reject element types that can't be used at all.
			var scratch layoutBuilder
			return scratch.add(elem, 0, path+"[0]")
		}
		// Analyse one element, then repeat its pattern.
		var eb layoutBuilder
		if err := eb.add(elem, 0, path+"[0]"); err != nil {
			return err
		}
		esize := uint32(elem.Size())
		for i := 0; i < n; i++ {
			base := off + uint32(i)*esize
			for _, c := range eb.covered {
				b.cover(base+c.off, c.len)
			}
			for _, bo := range eb.bools {
				b.bools = append(b.bools, base+bo)
			}
		}
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := path + "." + f.Name
			if path == "" {
				name = f.Name
			}
			if f.Name == "_" {
				// Blank fields are padding the programmer spelled out; they
				// are zeroed like the compiler's, but must not hide a
				// pointer.
				var scratch layoutBuilder
				if err := scratch.add(f.Type, 0, name); err != nil {
					return err
				}
				continue
			}
			if err := b.add(f.Type, off+uint32(f.Offset), name); err != nil {
				return err
			}
		}
	default:
		// int, uint and uintptr are excluded too: their size follows the
		// Go architecture, not the kernel's (a 32-bit process on a 64-bit
		// kernel), so no wire format can be written with them.
		if path == "" {
			return fmt.Errorf("%w: %s is not a fixed-size type", ErrNoLayout, t.Kind())
		}
		return fmt.Errorf("%w: field %s has type %s, which is not fixed-size", ErrNoLayout, path, t)
	}
	return nil
}

func (b *layoutBuilder) cover(off, n uint32) {
	if n == 0 {
		return
	}
	if k := len(b.covered); k > 0 && b.covered[k-1].off+b.covered[k-1].len == off {
		b.covered[k-1].len += n
		return
	}
	b.covered = append(b.covered, span{off, n})
}

// finish computes the holes of a type of size bytes: every byte no field
// covers. Fields never overlap and are added in ascending order, since
// struct fields and array elements are laid out that way.
func (b *layoutBuilder) finish(size int) *Layout {
	l := &Layout{size: size, bools: b.bools}
	next := uint32(0)
	for _, c := range b.covered {
		if c.off > next {
			l.holes = append(l.holes, span{next, c.off - next})
		}
		next = c.off + c.len
	}
	if uint32(size) > next {
		l.holes = append(l.holes, span{next, uint32(size) - next})
	}
	return l
}
