package ebpf

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sysenc"
)

// This file holds the slow paths of value encoding: per-CPU values, file
// descriptors of other objects, maps and programs read back from their
// IDs. The hot path in map_ops.go falls back to them when a value can't be
// handed to the kernel as it is.

// fdObject is what a map holding descriptors accepts as a value: *Map,
// *Program, or anything else that owns a descriptor. Using an interface
// keeps the maps code independent of the programs'.
type fdObject interface {
	FD() int
}

// valuePointerSlow encodes a value that isn't usable in place.
func (m *Map) valuePointerSlow(value any, c *sysenc.Codec) (unsafe.Pointer, error) {
	if value == nil {
		return nil, errors.New("nil value")
	}
	if m.fdValues {
		if obj, ok := value.(fdObject); ok {
			return m.marshalFD(obj)
		}
	}
	if m.perCPU {
		buf, err := marshalPerCPU(value, int(m.valueSize), m.fullValueSize)
		if err != nil {
			return nil, err
		}
		return unsafe.Pointer(unsafe.SliceData(buf)), nil
	}
	buf, err := c.Marshal(value, m.fullValueSize)
	if err != nil {
		return nil, err
	}
	return buf.Pointer(), nil
}

// marshalFD encodes the descriptor of obj as the 32-bit value the kernel
// expects.
func (m *Map) marshalFD(obj fdObject) (unsafe.Pointer, error) {
	switch obj.(type) {
	case *Map:
		if !m.typ.canStoreMap() {
			return nil, fmt.Errorf("can't store a map in a %s", m.typ)
		}
	case *Program:
		if !m.typ.canStoreProgram() {
			return nil, fmt.Errorf("can't store a program in a %s", m.typ)
		}
	}
	if m.valueSize != 4 {
		return nil, fmt.Errorf("a file descriptor is 4 bytes, the map's values %d", m.valueSize)
	}
	if isNilObject(obj) {
		return nil, fmt.Errorf("nil %T", obj)
	}
	fd := obj.FD()
	if fd < 0 {
		return nil, fmt.Errorf("%T is closed", obj)
	}
	v := new(uint32)
	*v = uint32(fd)
	return unsafe.Pointer(v), nil
}

func isNilObject(obj fdObject) bool {
	v := reflect.ValueOf(obj)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// marshalPerCPU lays out a slice of per-CPU values the way the kernel
// expects: one slot of perCPUStride(size) bytes per possible CPU, CPUs
// without an element zero.
func marshalPerCPU(value any, size, fullSize int) ([]byte, error) {
	n, ok := sysenc.SliceLen(value)
	if !ok || reflect.TypeOf(value).Kind() != reflect.Slice {
		return nil, fmt.Errorf("per-CPU value: %T is not a slice (one element per CPU)", value)
	}
	stride := perCPUStride(size)
	if n*stride > fullSize {
		return nil, fmt.Errorf("per-CPU value: %d elements for %d possible CPUs", n, fullSize/stride)
	}
	buf := make([]byte, fullSize)
	if err := sysenc.MarshalStrided(buf, value, size, stride); err != nil {
		return nil, fmt.Errorf("per-CPU value: %w", err)
	}
	return buf, nil
}

// unmarshalValue decodes a value the kernel wrote into scratch.
func (m *Map) unmarshalValue(valueOut any, c *sysenc.Codec, scratch []byte) error {
	switch out := valueOut.(type) {
	case **Map:
		if !m.typ.canStoreMap() {
			return fmt.Errorf("a %s holds no maps", m.typ)
		}
		inner, err := NewMapFromID(MapID(internal.NativeEndian.Uint32(scratch)))
		if err != nil {
			return err
		}
		// The caller may have closed the old map itself: ignore errors.
		_ = (*out).Close()
		*out = inner
		return nil
	case **Program:
		if !m.typ.canStoreProgram() {
			return fmt.Errorf("a %s holds no programs", m.typ)
		}
		prog, err := NewProgramFromID(ProgramID(internal.NativeEndian.Uint32(scratch)))
		if err != nil {
			return err
		}
		_ = (*out).Close()
		*out = prog
		return nil
	case *Map, *Program:
		return fmt.Errorf("%T can't be filled in: pass a pointer to one", valueOut)
	}
	if m.perCPU {
		return unmarshalPerCPU(valueOut, scratch, int(m.valueSize))
	}
	return c.Unmarshal(valueOut, scratch)
}

// unmarshalPerCPU decodes the per-CPU slots in buf into a []T of one
// element per CPU, or a *[]T whose slice is allocated to that length if
// needed.
func unmarshalPerCPU(valueOut any, buf []byte, size int) error {
	stride := perCPUStride(size)
	cpus := len(buf) / stride
	v := reflect.ValueOf(valueOut)
	switch {
	case v.Kind() == reflect.Slice:
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Slice && !v.IsNil():
		if v.Elem().Len() != cpus {
			v.Elem().Set(reflect.MakeSlice(v.Type().Elem(), cpus, cpus))
		}
		valueOut = v.Elem().Interface()
	default:
		return fmt.Errorf("per-CPU value: %T is neither a slice nor a pointer to one", valueOut)
	}
	if err := sysenc.UnmarshalStrided(valueOut, buf, size, stride); err != nil {
		return fmt.Errorf("per-CPU value: %w", err)
	}
	return nil
}
