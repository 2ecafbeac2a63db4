package sysenc

import "unsafe"

// NoEscape returns v unchanged, hiding the value it refers to from the
// compiler's escape analysis.
//
// A function that passes an `any` parameter on to code the compiler can't
// see through (an interface method such as MarshalBinary, reflection,
// encoding/binary) makes the compiler assume the value escapes, so every
// caller allocates it on the heap: Map.Update(uint32(k), uint64(v), 0)
// would cost two allocations. Laundering the parameter through NoEscape at
// the top of such a function keeps the caller's value where it is, on the
// stack if the caller put it there.
//
// This is only sound when nothing keeps a reference to the value after the
// function returns: not the function, not the errors it returns, not the
// MarshalBinary or UnmarshalBinary methods it calls. Inlined, it costs
// nothing: the interface is copied through a pointer the compiler can't
// trace back to v.
func NoEscape(v any) any {
	return *(*any)(noescape(unsafe.Pointer(&v)))
}

// noescape returns p. Escape analysis doesn't follow a pointer through an
// integer, so the result isn't tied to p. The integer never outlives the
// statement: loading it back through *unsafe.Pointer gives the garbage
// collector and the stack copier a typed pointer again before anything
// (a call, a stack move) could happen in between. Unlike the runtime's
// trick (uintptr arithmetic) this passes go vet and -d=checkptr.
func noescape(p unsafe.Pointer) unsafe.Pointer {
	x := uintptr(p)
	return *(*unsafe.Pointer)(unsafe.Pointer(&x))
}
