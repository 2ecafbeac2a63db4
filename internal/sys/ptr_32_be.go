//go:build mips

package sys

import "unsafe"

// Pointer is a user space address in a wire struct; see ptr_64.go. On
// big-endian 32-bit platforms the address is the second half of the __u64.
type Pointer struct {
	_   uint32
	ptr unsafe.Pointer
}
