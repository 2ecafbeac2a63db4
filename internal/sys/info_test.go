package sys

import (
	"testing"
	"unsafe"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
)

func TestMapInfo(t *testing.T) {
	requireBPF(t)
	m := hashMap(t)
	var info MapInfo
	n, err := ObjInfoLen(m, &info)
	qt.Assert(t, qt.IsNil(err))
	// Older kernels write fewer members; everything up to netns_ino has
	// been there since 4.16.
	qt.Check(t, qt.IsTrue(n >= uint32(unsafe.Offsetof(info.NetnsIno)+8) && n <= uint32(unsafe.Sizeof(info))), qt.Commentf("info_len %d", n))
	qt.Check(t, qt.Not(qt.Equals(info.Id, uint32(0))))
	want := MapInfo{
		Type:       BPF_MAP_TYPE_HASH,
		Id:         info.Id,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: 8,
		Name:       NewObjName("sys_test"),
		NetnsDev:   info.NetnsDev,
		NetnsIno:   info.NetnsIno,
	}
	qt.Check(t, qt.Equals(info, want))
}

func TestProgInfo(t *testing.T) {
	requireBPF(t)
	insns := retInsns(2)
	prog := loadProg(t, BPF_PROG_TYPE_XDP, insns, "sys_info")

	xlated := make([]byte, 64)
	info := ProgInfo{XlatedProgLen: uint32(len(xlated)), XlatedProgInsns: NewSlicePointer(xlated)}
	qt.Assert(t, qt.IsNil(ObjInfo(prog, &info)))
	qt.Check(t, qt.Equals(info.Type, BPF_PROG_TYPE_XDP))
	qt.Check(t, qt.Equals(info.Name.String(), "sys_info"))
	qt.Check(t, qt.Equals(info.XlatedProgLen, uint32(len(insns))))
	qt.Check(t, qt.DeepEquals(xlated[:len(insns)], insns))
	qt.Check(t, qt.Not(qt.Equals(info.Tag, [8]byte{})))
	qt.Check(t, qt.Equals(info.VerifiedInsns, uint32(2)))
	// The license is not GPL: the bitfield's bit is clear.
	qt.Check(t, qt.Equals(info.GplCompatible, uint32(0)))
}

func TestProgInfoGPLBit(t *testing.T) {
	requireBPF(t)
	insns := retInsns(2)
	attr := ProgLoadAttr{
		ProgType: BPF_PROG_TYPE_XDP,
		InsnCnt:  2,
		Insns:    NewSlicePointer(insns),
		License:  NewStringPointer("GPL"),
	}
	prog, err := ProgLoad(&attr)
	qt.Assert(t, qt.IsNil(err))
	defer prog.Close()
	var info ProgInfo
	qt.Assert(t, qt.IsNil(ObjInfo(prog, &info)))
	bit := uint32(1)
	if internal.NativeEndian.Uint16([]byte{0, 1}) == 1 { // big-endian
		bit = 1 << 31
	}
	qt.Check(t, qt.Equals(info.GplCompatible, bit))
}

// largeProgInfo plays a ProgInfo from a future kernel: the running kernel
// is "older" and does not know Extra.
type largeProgInfo struct {
	ProgInfo
	Extra uint64
}

func (i *largeProgInfo) info() (unsafe.Pointer, uint32) {
	return unsafe.Pointer(i), uint32(unsafe.Sizeof(*i))
}

// smallMapInfo plays a MapInfo from an older library: the kernel knows
// more than we ask for.
type smallMapInfo struct {
	Type MapType
	Id   uint32
}

func (i *smallMapInfo) info() (unsafe.Pointer, uint32) {
	return unsafe.Pointer(i), uint32(unsafe.Sizeof(*i))
}

func TestObjInfoOlderKernel(t *testing.T) {
	requireBPF(t)
	prog := loadProg(t, BPF_PROG_TYPE_XDP, retInsns(2), "sys_older")
	// Unknown members left zero: one call, the kernel writes its size.
	var info largeProgInfo
	kernelSize, err := ObjInfoLen(prog, &info)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.IsTrue(kernelSize <= uint32(unsafe.Sizeof(ProgInfo{}))))
	qt.Check(t, qt.Equals(info.Type, BPF_PROG_TYPE_XDP))

	// An unknown input member set: E2BIG, then the kernel's size is
	// probed and the call repeated without it.
	calls := 0
	restore := InjectFaults(func(cmd Cmd, _ int) error {
		qt.Check(t, qt.Equals(cmd, BPF_OBJ_GET_INFO_BY_FD))
		calls++
		return nil
	})
	info = largeProgInfo{Extra: 0xdead}
	n, err := ObjInfoLen(prog, &info)
	restore()
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(calls, 3))
	qt.Check(t, qt.Equals(n, kernelSize))
	qt.Check(t, qt.Equals(info.Type, BPF_PROG_TYPE_XDP))
	qt.Check(t, qt.Equals(info.Extra, uint64(0)), qt.Commentf("bytes the kernel did not write must read as zero"))
}

func TestObjInfoNewerKernel(t *testing.T) {
	requireBPF(t)
	m := hashMap(t)
	var info smallMapInfo
	n, err := ObjInfoLen(m, &info)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(n, uint32(8)))
	qt.Check(t, qt.Equals(info.Type, BPF_MAP_TYPE_HASH))
	qt.Check(t, qt.Not(qt.Equals(info.Id, uint32(0))))
}

func TestObjInfoErrors(t *testing.T) {
	// A closed FD: the kernel says EBADF.
	fd, err := NewFD(devNull(t))
	qt.Assert(t, qt.IsNil(err))
	fd.Close()
	restore := InjectFaults(func(Cmd, int) error { return unix.EBADF })
	defer restore()
	var info MapInfo
	qt.Check(t, qt.ErrorIs(ObjInfo(fd, &info), unix.EBADF))

	// E2BIG and then a failing size probe: both errors are reported.
	restore2 := InjectFaults(func(_ Cmd, n int) error {
		if n == 1 {
			return unix.E2BIG
		}
		return unix.ENOMEM
	})
	defer restore2()
	err = ObjInfo(fd, &info)
	qt.Check(t, qt.ErrorIs(err, unix.E2BIG))
	qt.Check(t, qt.ErrorIs(err, unix.ENOMEM))
}
