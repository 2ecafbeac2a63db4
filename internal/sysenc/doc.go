// Package sysenc turns Go values into the bytes that bpf(2) reads and back:
// keys and values of maps, and the contents of global variables.
//
// It sits between the objects of the root package (Map, Variable) and the
// syscall layer: the objects ask it for a pointer to hand to the kernel,
// internal/sys makes the call. It may import the standard library and
// internal; it must never import internal/sys, asm, btf, the root package or
// link, so that it stays a pure function of Go types.
//
// # Layouts
//
// A fixed-size Go type (booleans, integers, floats, arrays and structs of
// them) has the memory layout of the equivalent C type of the host, so its
// bytes are what the kernel and BPF programs expect. One exception: 32-bit
// platforms (386, arm) align 64-bit fields to 4 bytes where BPF aligns them
// to 8; such structs usually differ in size from the map's and are refused,
// and explicit padding fields fix them. LayoutOf
// analyses a type once (the result is cached): its size, the padding bytes
// the compiler inserted (holes), and where its bools are. Types with a
// pointer, a slice, a string, a map, a channel, a function, an interface or
// a uintptr have no such layout and are rejected with an error that names
// the offending field.
//
// # Zero copy
//
// A Codec describes one dynamic type of an `any` argument. When the value's
// memory can be used as it is (a pointer to a fixed-size type, a slice of
// one, a boxed fixed-size value without holes, an unsafe.Pointer), Source
// and Sink return its address and no byte is copied or allocated. Otherwise
// Marshal and Unmarshal copy: holes are zeroed on the way to the kernel,
// bools are normalised to 0 or 1 on the way back, encoding.BinaryMarshaler
// and encoding.BinaryUnmarshaler are called, and types whose packed size
// (encoding/binary) matches the expected size are encoded with
// encoding/binary, as cilium/ebpf does.
//
// # Escape analysis
//
// NoEscape lets a hot path take an `any` without forcing the caller to
// allocate the value on the heap. Whoever uses it promises that the value is
// not retained once the call returns; that includes MarshalBinary and
// UnmarshalBinary methods reached through it, which must not keep a
// reference to their receiver.
package sysenc
