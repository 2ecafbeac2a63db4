package features

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// HaveMapType reports whether the kernel can create maps of type mt; see
// the package documentation for what the error means. The probe creates
// the smallest map of the type the kernel accepts (one bpf(2) call, and a
// close) the first time.
//
// The error for ebpf.UnspecifiedMap and values the library doesn't know
// does not wrap ebpf.ErrNotSupported.
func HaveMapType(mt ebpf.MapType) error {
	return mapTypeMatrix.Result(mt)
}

// probeMapType creates a map of typ with 4-byte keys and values and one
// entry, which most types accept.
func probeMapType(typ sys.MapType) error {
	return createMap(&sys.MapCreateAttr{MapType: typ, KeySize: 4, ValueSize: 4, MaxEntries: 1})
}

// probeWithInvalidFD passes an fd that can't be valid where the type
// needs one (an inner map, a BTF object): a kernel that knows the type
// accepts the other attributes and fails looking the fd up, with EBADF.
func probeWithInvalidFD(attr *sys.MapCreateAttr) error {
	err := createMap(attr)
	if errors.Is(err, unix.EBADF) {
		return nil
	}
	return err
}

// probeLocalStorage creates a local storage map (socket, inode, task,
// cgroup): they need BTF for their key and value, no preallocation and no
// size.
func probeLocalStorage(typ sys.MapType) error {
	return probeWithInvalidFD(&sys.MapCreateAttr{
		MapType: typ, KeySize: 4, ValueSize: 4, MapFlags: sys.BPF_F_NO_PREALLOC,
		BtfFd: ^uint32(0), BtfKeyTypeId: 1, BtfValueTypeId: 1,
	})
}

// mapTypeMatrix has a probe for every map type. Versions are those of the
// first kernel with the type.
var mapTypeMatrix = internal.FeatureMatrix[ebpf.MapType]{
	ebpf.Hash:           {Version: "3.19"},
	ebpf.Array:          {Version: "3.19"},
	ebpf.ProgramArray:   {Version: "4.2"},
	ebpf.PerfEventArray: {Version: "4.3"},
	ebpf.PerCPUHash:     {Version: "4.6"},
	ebpf.PerCPUArray:    {Version: "4.6"},
	ebpf.StackTrace: {Version: "4.6", Fn: func() error {
		// A value is an array of 64-bit instruction pointers.
		return createMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_STACK_TRACE, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	}},
	ebpf.CGroupArray: {Version: "4.8"},
	ebpf.LRUHash:     {Version: "4.10"},
	ebpf.LRUCPUHash:  {Version: "4.10"},
	ebpf.LPMTrie: {Version: "4.11", Fn: func() error {
		// A key is a 32-bit prefix length and at least a byte of data;
		// tries are never preallocated.
		return createMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_LPM_TRIE, KeySize: 8, ValueSize: 4, MaxEntries: 1, MapFlags: sys.BPF_F_NO_PREALLOC})
	}},
	ebpf.ArrayOfMaps: {Version: "4.12", Fn: func() error {
		return probeWithInvalidFD(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARRAY_OF_MAPS, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMapFd: ^uint32(0)})
	}},
	ebpf.HashOfMaps: {Version: "4.12", Fn: func() error {
		return probeWithInvalidFD(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_HASH_OF_MAPS, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMapFd: ^uint32(0)})
	}},
	ebpf.DevMap:   {Version: "4.14"},
	ebpf.SockMap:  {Version: "4.14"},
	ebpf.CPUMap:   {Version: "4.15"},
	ebpf.XSKMap:   {Version: "4.18"},
	ebpf.SockHash: {Version: "4.18"},
	ebpf.CGroupStorage: {Version: "4.19", Fn: func() error {
		// The key is struct bpf_cgroup_storage_key (a u64 cgroup id and
		// a u32 attach type, 16 bytes with padding); the kernel sizes
		// the map itself.
		return createMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_CGROUP_STORAGE, KeySize: 16, ValueSize: 4})
	}},
	ebpf.ReusePortSockArray: {Version: "4.19"},
	ebpf.PerCPUCGroupStorage: {Version: "4.20", Fn: func() error {
		return createMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, KeySize: 16, ValueSize: 4})
	}},
	ebpf.Queue: {Version: "4.20", Fn: func() error {
		return createMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_QUEUE, ValueSize: 4, MaxEntries: 1})
	}},
	ebpf.Stack: {Version: "4.20", Fn: func() error {
		return createMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_STACK, ValueSize: 4, MaxEntries: 1})
	}},
	ebpf.SkStorage:  {Version: "5.2", Fn: func() error { return probeLocalStorage(sys.BPF_MAP_TYPE_SK_STORAGE) }},
	ebpf.DevMapHash: {Version: "5.4"},
	ebpf.StructOpsMap: {Version: "5.6", Fn: func() error {
		// Type 1 of the kernel's BTF is never a struct_ops value: a
		// kernel that knows the map type answers ENOTSUPP, one that
		// doesn't EINVAL.
		err := createMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_STRUCT_OPS, KeySize: 4, ValueSize: 4, MaxEntries: 1, BtfVmlinuxValueTypeId: 1})
		if errors.Is(err, sys.ENOTSUPP) {
			return nil
		}
		return err
	}},
	ebpf.RingBuf: {Version: "5.8", Fn: func() error {
		// No key or value; the size is a power of two pages.
		return createMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_RINGBUF, MaxEntries: uint32(os.Getpagesize())})
	}},
	ebpf.InodeStorage: {Version: "5.10", Fn: func() error { return probeLocalStorage(sys.BPF_MAP_TYPE_INODE_STORAGE) }},
	ebpf.TaskStorage:  {Version: "5.11", Fn: func() error { return probeLocalStorage(sys.BPF_MAP_TYPE_TASK_STORAGE) }},
	ebpf.BloomFilter: {Version: "5.16", Fn: func() error {
		return createMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_BLOOM_FILTER, ValueSize: 4, MaxEntries: 1})
	}},
	ebpf.UserRingbuf: {Version: "6.1", Fn: func() error {
		return createMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_USER_RINGBUF, MaxEntries: uint32(os.Getpagesize())})
	}},
	ebpf.CgroupStorage: {Version: "6.2", Fn: func() error { return probeLocalStorage(sys.BPF_MAP_TYPE_CGRP_STORAGE) }},
	ebpf.Arena: {Version: "6.9", Fn: func() error {
		// MaxEntries counts pages; an arena is always mappable.
		return createMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARENA, MaxEntries: 1, MapFlags: sys.BPF_F_MMAPABLE})
	}},
}

func init() {
	for mt, ft := range mapTypeMatrix {
		ft.Name = "map type " + mt.String()
		fn := ft.Fn
		if fn == nil {
			typ := sys.MapType(mt)
			fn = func() error { return probeMapType(typ) }
		}
		ft.Fn = configured(ft.Name, ft.Version, fn)
	}
}

// MapFlags are the flags of map creation that HaveMapFlag can probe.
type MapFlags uint32

// The map flags HaveMapFlag knows (from include/uapi/linux/bpf.h).
const (
	// BPF_F_NO_PREALLOC: allocate hash map elements on update (4.6).
	BPF_F_NO_PREALLOC = sys.BPF_F_NO_PREALLOC
	// BPF_F_RDONLY_PROG: programs may only read the map (5.2).
	BPF_F_RDONLY_PROG = sys.BPF_F_RDONLY_PROG
	// BPF_F_WRONLY_PROG: programs may only write the map (5.2).
	BPF_F_WRONLY_PROG = sys.BPF_F_WRONLY_PROG
	// BPF_F_MMAPABLE: user space may mmap an array map (5.5).
	BPF_F_MMAPABLE = sys.BPF_F_MMAPABLE
	// BPF_F_INNER_MAP: an inner map whose size may differ from the
	// template's (5.10).
	BPF_F_INNER_MAP = sys.BPF_F_INNER_MAP
)

// HaveMapFlag reports whether the kernel accepts flag when creating a map;
// see the package documentation for what the error means. flag must be
// one of the constants of this package, else the error does not wrap
// ebpf.ErrNotSupported. One bpf(2) call the first time.
func HaveMapFlag(flag MapFlags) (err error) {
	return mapFlagMatrix.Result(flag)
}

// probeMapFlag creates an array (or a hash, for flags about hashes) with
// the flag. Unknown flags make the kernel answer EINVAL.
func probeMapFlag(typ sys.MapType, flag MapFlags) error {
	return createMap(&sys.MapCreateAttr{MapType: typ, KeySize: 4, ValueSize: 4, MaxEntries: 1, MapFlags: uint32(flag)})
}

var mapFlagMatrix = internal.FeatureMatrix[MapFlags]{
	BPF_F_NO_PREALLOC: {Name: "BPF_F_NO_PREALLOC", Version: "4.6", Fn: func() error {
		return probeMapFlag(sys.BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC)
	}},
	BPF_F_RDONLY_PROG: {Name: "BPF_F_RDONLY_PROG", Version: "5.2", Fn: func() error {
		return probeMapFlag(sys.BPF_MAP_TYPE_ARRAY, BPF_F_RDONLY_PROG)
	}},
	BPF_F_WRONLY_PROG: {Name: "BPF_F_WRONLY_PROG", Version: "5.2", Fn: func() error {
		return probeMapFlag(sys.BPF_MAP_TYPE_ARRAY, BPF_F_WRONLY_PROG)
	}},
	BPF_F_MMAPABLE: {Name: "BPF_F_MMAPABLE", Version: "5.5", Fn: func() error {
		return probeMapFlag(sys.BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE)
	}},
	BPF_F_INNER_MAP: {Name: "BPF_F_INNER_MAP", Version: "5.10", Fn: func() error {
		return probeMapFlag(sys.BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP)
	}},
}

func init() {
	for _, ft := range mapFlagMatrix {
		ft.Name = fmt.Sprintf("map flag %s", ft.Name)
	}
}
