package internal

import (
	"encoding/binary"
	"unsafe"
)

// NativeEndian is the byte order of the machine the library runs on; the
// kernel expects every bpf(2) argument in it.
var NativeEndian binary.ByteOrder = nativeEndian()

func nativeEndian() binary.ByteOrder {
	x := uint16(1)
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		return binary.LittleEndian
	}
	return binary.BigEndian
}
