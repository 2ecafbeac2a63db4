package sys

import "unsafe"

// NewPointer wraps p for a wire struct. p must point to Go-allocated memory
// (or be nil); the kernel reads or writes it during the bpf(2) call.
func NewPointer(p unsafe.Pointer) Pointer {
	return Pointer{ptr: p}
}

// NewSlicePointer points at the first element of s, or is nil for a nil
// slice. It does not copy or allocate; s stays alive as long as the
// Pointer does.
func NewSlicePointer[T any](s []T) Pointer {
	return Pointer{ptr: unsafe.Pointer(unsafe.SliceData(s))}
}

// NewStringPointer copies s into a NUL-terminated buffer and points at it:
// the form the kernel expects for names and paths. It allocates len(s)+1
// bytes. A NUL inside s ends the string the kernel sees.
func NewStringPointer(s string) Pointer {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return Pointer{ptr: unsafe.Pointer(&b[0])}
}

// NewStringSlicePointer builds the array of NUL-terminated strings that
// link_create.kprobe_multi.syms expects: one 64-bit user pointer per
// string. It allocates the array and a copy of every string.
func NewStringSlicePointer(ss []string) Pointer {
	if len(ss) == 0 {
		return Pointer{}
	}
	ptrs := make([]Pointer, len(ss))
	for i, s := range ss {
		ptrs[i] = NewStringPointer(s)
	}
	return Pointer{ptr: unsafe.Pointer(&ptrs[0])}
}

// IsNil reports whether p is the zero Pointer (the kernel sees 0).
func (p Pointer) IsNil() bool {
	return p.ptr == nil
}
