package sys

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
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
// members we know. An older kernel writes its own, shorter struct; every
// byte past what the kernel wrote is zeroed, so members it does not know
// read as zero (compare the returned length with a member's offset to tell
// "zero" from "not reported"). An older kernel refuses with E2BIG a struct
// longer than its own if the extra bytes are not zero, that is when the
// caller set an input member the kernel does not know. ObjInfoLen then asks
// the kernel for its size with a zeroed buffer and repeats the call with
// info cut to that size: the unknown input members are dropped and zeroed.
//
// A bpf_link_info variant (RawTracepointLinkInfo, KprobeLinkInfo, ...) must
// match the link's type (read LinkInfo to learn it); otherwise ObjInfoLen
// returns an error and leaves info as it was.
//
// Costs one bpf(2) call (three on an older kernel given newer input
// members) and, for link variants, a scratch buffer; requires Linux 4.13.
// The E2BIG fallback needs no version check: every kernel with
// BPF_OBJ_GET_INFO_BY_FD writes back its size.
func ObjInfoLen(fd *FD, info Info) (uint32, error) {
	ptr, size := info.info()
	dst := unsafe.Slice((*byte)(ptr), size)
	lv, ok := info.(linkVariant)
	if !ok {
		return objInfo(fd, ptr, dst)
	}

	// The kernel writes the union member of the link's own type. It writes
	// into pointer-free memory here, and the result is copied only if that
	// member is the one info lays out: integers written over a Pointer of
	// another variant would mislead the garbage collector. The copy puts
	// back the Pointer values the caller set, which the kernel only reads.
	scratch := make([]byte, size)
	copy(scratch, dst)
	n, err := objInfo(fd, unsafe.Pointer(&scratch[0]), scratch)
	runtime.KeepAlive(info) // its Pointers reference the kernel's output buffers
	if err != nil {
		return 0, err
	}
	hdr := (*PerfEventLinkInfo)(unsafe.Pointer(&scratch[0]))
	if !lv.matches(hdr.Type, hdr.PerfEventType) {
		kind := hdr.Type.String()
		if hdr.Type == BPF_LINK_TYPE_PERF_EVENT {
			kind += "/" + hdr.PerfEventType.String()
		}
		return 0, fmt.Errorf("object info: %s is a %s link, %T lays out another kind", fd, kind, info)
	}
	copy(dst, scratch)
	return n, nil
}

// linkVariant is a bpf_link_info with its union laid out for one link type.
type linkVariant interface {
	matches(LinkType, PerfEventType) bool
}

// objInfo runs BPF_OBJ_GET_INFO_BY_FD into buf (at ptr), with the E2BIG
// fallback ObjInfoLen describes.
func objInfo(fd *FD, ptr unsafe.Pointer, buf []byte) (uint32, error) {
	size := uint32(len(buf))
	length := size
	for {
		attr := ObjGetInfoByFdAttr{BpfFd: fd.Uint(), InfoLen: length, Info: NewPointer(ptr)}
		err := ObjGetInfoByFd(&attr)
		runtime.KeepAlive(fd)
		if errors.Is(err, unix.E2BIG) && length == size {
			kernelSize, perr := infoSize(fd, size)
			if perr != nil {
				return 0, fmt.Errorf("object info: %w (and asking for the kernel's size: %w)", err, perr)
			}
			if kernelSize >= size {
				return 0, fmt.Errorf("object info: kernel refuses %d bytes but its struct has %d: %w", size, kernelSize, err)
			}
			length = kernelSize
			continue
		}
		if err != nil {
			return 0, err
		}
		filled := min(attr.InfoLen, length)
		clear(buf[filled:])
		return filled, nil
	}
}

// infoSize returns the size of the kernel's info struct for fd's object:
// the info_len it writes back for a zeroed buffer of our size.
func infoSize(fd *FD, size uint32) (uint32, error) {
	probe := make([]byte, size)
	attr := ObjGetInfoByFdAttr{BpfFd: fd.Uint(), InfoLen: size, Info: NewSlicePointer(probe)}
	err := ObjGetInfoByFd(&attr)
	runtime.KeepAlive(fd)
	return attr.InfoLen, err
}
