package typeprobe

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
)

// HaveMapType reports whether the kernel can create maps of type mt: nil,
// an error wrapping internal.ErrNotSupported that names the type ("map
// type ringbuf", the kernel's and bpftool's name) and the first kernel with it (or says the kernel was
// built without it), or another error if the probe itself failed (not
// memoized). Types without a probe give ErrUnknown.
//
// The first call for a type creates the smallest map of it the kernel
// accepts and closes it; later calls take a mutex.
func HaveMapType[T Named](mt T) error {
	p := mapTypes[sys.MapType(mt)]
	if p == nil {
		return fmt.Errorf("map type %s: %w", mt, ErrUnknown)
	}
	return p.result(MapTypeName(sys.MapType(mt)))
}

// MapTypeName names mt as the kernel and bpftool do, for errors: "map type
// ringbuf" for BPF_MAP_TYPE_RINGBUF.
func MapTypeName(mt sys.MapType) string {
	return "map type " + strings.ToLower(strings.TrimPrefix(mt.String(), "BPF_MAP_TYPE_"))
}

// MapTypeVersion returns the first kernel with map type mt, or false if
// the table doesn't know it.
func MapTypeVersion(mt sys.MapType) (string, bool) {
	p := mapTypes[mt]
	if p == nil {
		return "", false
	}
	return p.version, true
}

// probeWithInvalidFD passes an fd that can't be valid where the type
// needs one (an inner map, a BTF object): a kernel that knows the type
// accepts the other attributes and fails looking the fd up, with EBADF.
func probeWithInvalidFD(attr *sys.MapCreateAttr) error {
	err := CreateMap(attr)
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

// mapTypes has a probe for every map type of the UAPI. Versions are those
// of the first kernel with the type; a probe without fn creates a map with
// 4-byte keys and values and one entry, which most types accept.
var mapTypes = map[sys.MapType]*probe{
	sys.BPF_MAP_TYPE_HASH:             {version: "3.19"},
	sys.BPF_MAP_TYPE_ARRAY:            {version: "3.19"},
	sys.BPF_MAP_TYPE_PROG_ARRAY:       {version: "4.2"},
	sys.BPF_MAP_TYPE_PERF_EVENT_ARRAY: {version: "4.3"},
	sys.BPF_MAP_TYPE_PERCPU_HASH:      {version: "4.6"},
	sys.BPF_MAP_TYPE_PERCPU_ARRAY:     {version: "4.6"},
	sys.BPF_MAP_TYPE_STACK_TRACE: {version: "4.6", fn: func() error {
		// A value is an array of 64-bit instruction pointers.
		return CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_STACK_TRACE, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	}},
	sys.BPF_MAP_TYPE_CGROUP_ARRAY:    {version: "4.8"},
	sys.BPF_MAP_TYPE_LRU_HASH:        {version: "4.10"},
	sys.BPF_MAP_TYPE_LRU_PERCPU_HASH: {version: "4.10"},
	sys.BPF_MAP_TYPE_LPM_TRIE: {version: "4.11", fn: func() error {
		// A key is a 32-bit prefix length and at least a byte of data;
		// tries are never preallocated.
		return CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_LPM_TRIE, KeySize: 8, ValueSize: 4, MaxEntries: 1, MapFlags: sys.BPF_F_NO_PREALLOC})
	}},
	sys.BPF_MAP_TYPE_ARRAY_OF_MAPS: {version: "4.12", fn: func() error {
		return probeWithInvalidFD(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARRAY_OF_MAPS, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMapFd: ^uint32(0)})
	}},
	sys.BPF_MAP_TYPE_HASH_OF_MAPS: {version: "4.12", fn: func() error {
		return probeWithInvalidFD(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_HASH_OF_MAPS, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMapFd: ^uint32(0)})
	}},
	sys.BPF_MAP_TYPE_DEVMAP:   {version: "4.14"},
	sys.BPF_MAP_TYPE_SOCKMAP:  {version: "4.14"},
	sys.BPF_MAP_TYPE_CPUMAP:   {version: "4.15"},
	sys.BPF_MAP_TYPE_XSKMAP:   {version: "4.18"},
	sys.BPF_MAP_TYPE_SOCKHASH: {version: "4.18"},
	sys.BPF_MAP_TYPE_CGROUP_STORAGE: {version: "4.19", fn: func() error {
		// The key is struct bpf_cgroup_storage_key (a u64 cgroup id and
		// a u32 attach type, 16 bytes with padding); the kernel sizes
		// the map itself.
		return CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_CGROUP_STORAGE, KeySize: 16, ValueSize: 4})
	}},
	sys.BPF_MAP_TYPE_REUSEPORT_SOCKARRAY: {version: "4.19"},
	sys.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: {version: "4.20", fn: func() error {
		return CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, KeySize: 16, ValueSize: 4})
	}},
	sys.BPF_MAP_TYPE_QUEUE: {version: "4.20", fn: func() error {
		return CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_QUEUE, ValueSize: 4, MaxEntries: 1})
	}},
	sys.BPF_MAP_TYPE_STACK: {version: "4.20", fn: func() error {
		return CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_STACK, ValueSize: 4, MaxEntries: 1})
	}},
	sys.BPF_MAP_TYPE_SK_STORAGE:  {version: "5.2", fn: func() error { return probeLocalStorage(sys.BPF_MAP_TYPE_SK_STORAGE) }},
	sys.BPF_MAP_TYPE_DEVMAP_HASH: {version: "5.4"},
	sys.BPF_MAP_TYPE_STRUCT_OPS: {version: "5.6", fn: func() error {
		// Type 1 of the kernel's BTF is never a struct_ops value: a
		// kernel that knows the map type answers ENOTSUPP, one that
		// doesn't EINVAL.
		err := CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_STRUCT_OPS, KeySize: 4, ValueSize: 4, MaxEntries: 1, BtfVmlinuxValueTypeId: 1})
		if errors.Is(err, sys.ENOTSUPP) {
			return nil
		}
		return err
	}},
	sys.BPF_MAP_TYPE_RINGBUF: {version: "5.8", fn: func() error {
		// No key or value; the size is a power of two pages.
		return CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_RINGBUF, MaxEntries: uint32(os.Getpagesize())})
	}},
	sys.BPF_MAP_TYPE_INODE_STORAGE: {version: "5.10", fn: func() error { return probeLocalStorage(sys.BPF_MAP_TYPE_INODE_STORAGE) }},
	sys.BPF_MAP_TYPE_TASK_STORAGE:  {version: "5.11", fn: func() error { return probeLocalStorage(sys.BPF_MAP_TYPE_TASK_STORAGE) }},
	sys.BPF_MAP_TYPE_BLOOM_FILTER: {version: "5.16", fn: func() error {
		return CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_BLOOM_FILTER, ValueSize: 4, MaxEntries: 1})
	}},
	sys.BPF_MAP_TYPE_USER_RINGBUF: {version: "6.1", fn: func() error {
		return CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_USER_RINGBUF, MaxEntries: uint32(os.Getpagesize())})
	}},
	sys.BPF_MAP_TYPE_CGRP_STORAGE: {version: "6.2", fn: func() error { return probeLocalStorage(sys.BPF_MAP_TYPE_CGRP_STORAGE) }},
	sys.BPF_MAP_TYPE_ARENA: {version: "6.9", fn: func() error {
		// MaxEntries counts pages; an arena is always mappable.
		return CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARENA, MaxEntries: 1, MapFlags: sys.BPF_F_MMAPABLE})
	}},
}

func init() {
	for mt, p := range mapTypes {
		if p.fn == nil {
			p.fn = func() error {
				return CreateMap(&sys.MapCreateAttr{MapType: mt, KeySize: 4, ValueSize: 4, MaxEntries: 1})
			}
		}
	}
}
