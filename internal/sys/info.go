package sys

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
)

// Info is a struct that BPF_OBJ_GET_INFO_BY_FD fills: ProgInfo, MapInfo,
// BtfInfo, TokenInfo, LinkInfo and the *LinkInfo types of each link type.
type Info interface {
	info() (unsafe.Pointer, uint32)
}

// ObjInfo fills info with what the kernel knows about the object behind
// fd. See ObjInfoLen.
func ObjInfo(fd *FD, info Info) error {
	_, err := ObjInfoLen(fd, info)
	return err
}

// ObjInfoLen fills info with what the kernel knows about the object behind
// fd and returns how many bytes of it the kernel wrote. Members set before
// the call are the kernel's input (buffers and their lengths).
//
// Info structs grow with every kernel. A newer kernel writes only the
// members we know. An older kernel writes its own, shorter struct: ObjInfoLen
// zeroes every byte past what the kernel wrote, so unknown members read as
// zero, and compare the returned length with a member's offset to tell
// "zero" from "not reported". An older kernel also refuses (E2BIG) a struct
// longer than its own whose tail is not zero; ObjInfoLen then retries with
// the struct cut after its last non-zero byte. If that byte lies beyond the
// kernel's struct, an input member is unknown to the kernel and the error
// wraps ErrNotSupported.
//
// Costs one bpf(2) call (two on an older kernel given new input members);
// requires Linux 4.13.
func ObjInfoLen(fd *FD, info Info) (uint32, error) {
	ptr, size := info.info()
	buf := unsafe.Slice((*byte)(ptr), size)
	length := size
	for {
		attr := ObjGetInfoByFdAttr{BpfFd: fd.Uint(), InfoLen: length, Info: NewPointer(ptr)}
		err := ObjGetInfoByFd(&attr)
		runtime.KeepAlive(fd)
		if errors.Is(err, unix.E2BIG) {
			end := uint32(0)
			for i := length; i > 0; i-- {
				if buf[i-1] != 0 {
					end = (i + 7) &^ 7
					break
				}
			}
			if end < length {
				length = end
				continue
			}
			return 0, fmt.Errorf("object info: the kernel's struct is shorter than the %d bytes our input members need: %w (%w)",
				end, internal.ErrNotSupported, err)
		}
		if err != nil {
			return 0, err
		}
		filled := min(attr.InfoLen, size)
		clear(buf[filled:])
		return filled, nil
	}
}
