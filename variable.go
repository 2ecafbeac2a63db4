package ebpf

import (
	"fmt"
	"reflect"
	"runtime"
	"unsafe"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sysenc"
)

// Variable is a global variable of a loaded collection. Set and Get work
// on the memory of its data section's map, mapped into the process
// (BPF_F_MMAPABLE, Linux 5.5): no syscalls, and programs see a Set at
// once. Variables of .rodata are read-only: the map is frozen before the
// programs are verified, which lets the verifier treat them as constants.
//
// On kernels without mmapable arrays, Set and Get return errors wrapping
// ErrNotSupported and ReadOnly is true.
//
// A Variable stays usable after its collection (or the map) is closed:
// the mapping keeps the map alive until the Variable is unreachable.
// Access is not synchronised with programs; see Memory.
type Variable struct {
	name   string
	offset uint32
	size   uint32
	t      *btf.Var
	mm     *Memory
}

// newVariable makes the Variable of size bytes at offset in mm, which may
// be nil where the map can't be mapped.
func newVariable(name string, offset, size uint32, t *btf.Var, mm *Memory) (*Variable, error) {
	if mm != nil {
		if _, err := mm.slice(offset, size); err != nil {
			return nil, err
		}
	}
	return &Variable{name: name, offset: offset, size: size, t: t, mm: mm}, nil
}

// Size returns the size of the variable in bytes.
func (v *Variable) Size() uint32 { return v.size }

// ReadOnly reports whether Set will fail: for variables of read-only data
// sections (.rodata), and for all variables where the kernel can't map
// data sections into memory.
func (v *Variable) ReadOnly() bool {
	return v.mm == nil || v.mm.ReadOnly()
}

// Type returns the variable's BTF, or nil if the object had none. Its
// type and decl tags describe the value.
func (v *Variable) Type() *btf.Var { return v.t }

// String describes the variable.
func (v *Variable) String() string {
	return fmt.Sprintf("%s (type=%v, offset=%d, size=%d)", v.name, v.t, v.offset, v.size)
}

// bytes returns the variable's memory, or an error wrapping
// ErrNotSupported where there is none. The caller keeps v.mm alive while
// it uses the slice.
func (v *Variable) bytes() ([]byte, error) {
	if v.mm == nil {
		return nil, fmt.Errorf("variable %s: memory-mapped data sections need Linux 5.5: %w", v.name, ErrNotSupported)
	}
	b, err := v.mm.slice(v.offset, v.size)
	if err != nil {
		return nil, fmt.Errorf("variable %s: %w", v.name, err)
	}
	return b, nil
}

// Set writes in, a fixed-size value (or []byte) of exactly the variable's
// size in the host's byte order, to the variable. Variables of .rodata
// give an error wrapping ErrReadOnly.
//
// Values whose Go layout is their C layout are copied straight into the
// map's memory, without allocating. Like Map's methods, Set and Get don't
// retain their argument, nor may MarshalBinary and UnmarshalBinary methods
// they call retain their receiver.
func (v *Variable) Set(in any) error {
	return v.set(sysenc.NoEscape(in))
}

func (v *Variable) set(in any) error {
	if v.mm != nil && v.mm.ReadOnly() {
		return fmt.Errorf("variable %s: %w", v.name, ErrReadOnly)
	}
	dst, err := v.bytes()
	if err != nil {
		return err
	}
	buf, err := sysenc.Marshal(in, int(v.size))
	if err != nil {
		return fmt.Errorf("variable %s: %w", v.name, err)
	}
	copy(dst, buf.Bytes())
	runtime.KeepAlive(v.mm)
	return nil
}

// Get reads the variable into out: a pointer to a fixed-size value, or a
// []byte, of exactly the variable's size.
func (v *Variable) Get(out any) error {
	return v.get(sysenc.NoEscape(out))
}

func (v *Variable) get(out any) error {
	src, err := v.bytes()
	if err != nil {
		return err
	}
	err = sysenc.Unmarshal(out, src)
	runtime.KeepAlive(v.mm)
	if err != nil {
		return fmt.Errorf("variable %s: %w", v.name, err)
	}
	return nil
}

// VariablePointer returns a *T that points straight into the variable's
// memory, for code that wants to read or write it like a Go variable:
// no syscalls, no copies, and programs see writes at once (access is not
// synchronised with them; use sync/atomic on naturally aligned words
// where programs write concurrently).
//
// T must be made of fixed-size, pointer-free types (bools, integers,
// floats, arrays and structs of them; structs should embed
// structs.HostLayout), have exactly the variable's size and fit its
// alignment; otherwise the error wraps ErrInvalidType. Read-only
// variables give ErrReadOnly, and variables without memory (kernels
// before 5.5) ErrNotSupported.
//
// The pointer is an ordinary Go pointer into memory the garbage collector
// tracks: the data section's map is mapped inside a Go heap allocation
// (see Memory), so the pointer keeps the mapping, and the map, alive after
// the Variable, the Collection and the Map are gone. Costs nothing beyond
// the checks; the allocation was made with the Variable's memory.
//
// Unlike cilium/ebpf, which offers this only under its
// ebpf_unsafe_memory_experiment build tag, it is always available.
func VariablePointer[T comparable](v *Variable) (*T, error) {
	t := reflect.TypeFor[T]()
	if err := checkPointerType(t); err != nil {
		return nil, fmt.Errorf("variable pointer %s: %w", v.name, err)
	}
	if uint64(t.Size()) != uint64(v.size) {
		return nil, fmt.Errorf("variable pointer %s: %s is %d bytes, the variable %d: %w", v.name, t, t.Size(), v.size, ErrInvalidType)
	}
	if v.offset%uint32(t.Align()) != 0 {
		return nil, fmt.Errorf("variable pointer %s: offset %d is not aligned for %s: %w", v.name, v.offset, t, ErrInvalidType)
	}
	b, err := v.bytes()
	if err != nil {
		return nil, fmt.Errorf("variable pointer: %w", err)
	}
	if v.mm.ReadOnly() {
		return nil, fmt.Errorf("variable pointer %s: %w", v.name, ErrReadOnly)
	}
	if !v.mm.heap {
		// Only writable arrays are mapped into the heap; a Variable's
		// memory is always one.
		return nil, fmt.Errorf("variable pointer %s: the memory is not in the Go heap: %w", v.name, ErrNotSupported)
	}
	return (*T)(unsafe.Pointer(unsafe.SliceData(b))), nil
}

// checkPointerType accepts the types a pointer into a map's memory may
// have: no Go pointers, nothing of variable size.
func checkPointerType(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Bool, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return nil
	case reflect.Array:
		return checkPointerType(t.Elem())
	case reflect.Struct:
		// Zero-sized members such as structs.HostLayout are fine; the
		// size of the whole is checked against the variable's.
		for i := range t.NumField() {
			if err := checkPointerType(t.Field(i).Type); err != nil {
				return fmt.Errorf("%s.%s: %w", t, t.Field(i).Name, err)
			}
		}
		return nil
	}
	return fmt.Errorf("%s can't live in a map's memory: %w", t, ErrInvalidType)
}
