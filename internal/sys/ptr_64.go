//go:build !386 && !arm && !mips && !mipsle

package sys

import "unsafe"

// Pointer is a user space address in a wire struct: a __u64 that the kernel
// treats as a pointer (__aligned_u64 in the UAPI header). It holds an
// unsafe.Pointer so that the garbage collector sees the reference: the
// memory stays alive as long as the struct holding the Pointer does, which
// includes the whole bpf(2) call that receives the struct. Go's heap
// objects never move, and a goroutine's stack is not moved while it is in a
// system call, so the address the kernel reads stays valid.
//
// On 64-bit platforms the unsafe.Pointer fills all 8 bytes. On 32-bit
// platforms (ptr_32_*.go) it is paired with 4 zero bytes, placed so the
// kernel reads the address as a 64-bit integer in the native byte order.
type Pointer struct {
	ptr unsafe.Pointer
}
