//go:build 386 || arm || mipsle

package sys

import "unsafe"

// Pointer is a user space address in a wire struct; see ptr_64.go. On
// little-endian 32-bit platforms the address is the low half of the __u64.
type Pointer struct {
	ptr unsafe.Pointer
	_   uint32
}
