package ebpf

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// MapTypeForPlatform returns the MapType that the platform plat ("linux")
// calls typ. Use it for map types this package has no constant for yet.
// Other platforms give an error wrapping ErrNotSupported.
func MapTypeForPlatform(plat string, typ uint32) (MapType, error) {
	if plat != "linux" {
		return 0, fmt.Errorf("map type %d on platform %q: %w", typ, plat, ErrNotSupported)
	}
	return MapType(typ), nil
}

// hasPerCPUValue reports whether the map holds one value per possible CPU
// for every key.
func (mt MapType) hasPerCPUValue() bool {
	switch mt {
	case PerCPUHash, PerCPUArray, LRUCPUHash, PerCPUCGroupStorage:
		return true
	}
	return false
}

// canStoreMap reports whether the map's values are maps: written as file
// descriptors, read back as map IDs.
func (mt MapType) canStoreMap() bool {
	return mt == ArrayOfMaps || mt == HashOfMaps
}

// canStoreProgram reports whether the map's values are programs: written as
// file descriptors, read back as program IDs.
func (mt MapType) canStoreProgram() bool {
	return mt == ProgramArray
}

// storesFDs reports whether the map's values are written as file
// descriptors of other objects (maps, programs, perf events, cgroups,
// sockets), so that a value with an FD() method may be stored.
func (mt MapType) storesFDs() bool {
	switch mt {
	case ArrayOfMaps, HashOfMaps, ProgramArray, PerfEventArray, CGroupArray,
		SockMap, SockHash, XSKMap, ReusePortSockArray:
		return true
	}
	return false
}

// mustHaveNoPrealloc reports whether the kernel requires BPF_F_NO_PREALLOC
// for the map type.
func (mt MapType) mustHaveNoPrealloc() bool {
	switch mt {
	case LPMTrie, SkStorage, InodeStorage, TaskStorage, CgroupStorage:
		return true
	}
	return false
}

// mustHaveZeroMaxEntries reports whether the kernel sizes the map itself
// and requires MaxEntries to be zero.
func (mt MapType) mustHaveZeroMaxEntries() bool {
	switch mt {
	case CGroupStorage, PerCPUCGroupStorage, SkStorage, InodeStorage, TaskStorage, CgroupStorage:
		return true
	}
	return false
}

// takesBTF reports whether the kernel accepts key/value BTF for the map
// type. Maps of maps, perf event and cgroup arrays, device, CPU, XSK and
// socket maps, stack traces, queues and stacks refuse any (ENOTSUPP from
// the kernel's map_check_no_btf, or EINVAL), as libbpf knows: sending it
// costs a failed BPF_MAP_CREATE and a retry without. (Program arrays take
// it on 6.18; older kernels that don't get the retry.)
func (mt MapType) takesBTF() bool {
	switch mt {
	case PerfEventArray, CGroupArray, ArrayOfMaps, HashOfMaps,
		StackTrace, Queue, Stack, DevMap, DevMapHash, CPUMap, XSKMap, SockMap, SockHash:
		return false
	}
	return true
}

// hasBatchLookup reports whether the kernel implements BPF_MAP_LOOKUP_BATCH
// for the map type (hash and array maps since 5.6). Iterate uses it.
func (mt MapType) hasBatchLookup() bool {
	switch mt {
	case Hash, PerCPUHash, LRUHash, LRUCPUHash, Array, PerCPUArray:
		return true
	}
	return false
}

// mapTypeProbes probes for each map type by creating the smallest map of
// it the kernel accepts. Versions are those of the first kernel with the
// type.
var mapTypeProbes = internal.FeatureMatrix[MapType]{
	Hash:           {Version: "3.19"},
	Array:          {Version: "3.19"},
	ProgramArray:   {Version: "4.2"},
	PerfEventArray: {Version: "4.3"},
	PerCPUHash:     {Version: "4.6"},
	PerCPUArray:    {Version: "4.6"},
	StackTrace: {Version: "4.6", Fn: func() error {
		// Values are arrays of u64 instruction pointers.
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_STACK_TRACE, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	}},
	CGroupArray: {Version: "4.8"},
	LRUHash:     {Version: "4.10"},
	LRUCPUHash:  {Version: "4.10"},
	LPMTrie: {Version: "4.11", Fn: func() error {
		// A key is a 32-bit prefix length followed by the data.
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_LPM_TRIE, KeySize: 8, ValueSize: 4, MaxEntries: 1, MapFlags: sys.BPF_F_NO_PREALLOC})
	}},
	ArrayOfMaps: {Version: "4.12", Fn: func() error { return probeNestedMapType(sys.BPF_MAP_TYPE_ARRAY_OF_MAPS) }},
	HashOfMaps:  {Version: "4.12", Fn: func() error { return probeNestedMapType(sys.BPF_MAP_TYPE_HASH_OF_MAPS) }},
	DevMap:      {Version: "4.14"},
	SockMap:     {Version: "4.14"},
	CPUMap:      {Version: "4.15"},
	XSKMap:      {Version: "4.18"},
	SockHash:    {Version: "4.18"},
	CGroupStorage: {Version: "4.19", Fn: func() error {
		// struct bpf_cgroup_storage_key: a u64 cgroup id and a u32
		// attach type, padded to 16 bytes. The kernel sizes the map.
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_CGROUP_STORAGE, KeySize: 16, ValueSize: 4})
	}},
	ReusePortSockArray: {Version: "4.19"},
	PerCPUCGroupStorage: {Version: "4.20", Fn: func() error {
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, KeySize: 16, ValueSize: 4})
	}},
	Queue: {Version: "4.20", Fn: func() error {
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_QUEUE, ValueSize: 4, MaxEntries: 1})
	}},
	Stack: {Version: "4.20", Fn: func() error {
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_STACK, ValueSize: 4, MaxEntries: 1})
	}},
	SkStorage:  {Version: "5.2", Fn: func() error { return probeLocalStorageMapType(sys.BPF_MAP_TYPE_SK_STORAGE) }},
	DevMapHash: {Version: "5.4"},
	StructOpsMap: {Version: "5.6", Fn: func() error {
		// Without a kernel struct to implement the kernel refuses with
		// ENOTSUPP once it knows the type; unknown types get EINVAL.
		err := probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_STRUCT_OPS, KeySize: 4, ValueSize: 4, MaxEntries: 1, BtfVmlinuxValueTypeId: 1})
		if errors.Is(err, sys.ENOTSUPP) {
			return nil
		}
		return err
	}},
	RingBuf: {Version: "5.8", Fn: func() error {
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_RINGBUF, MaxEntries: uint32(os.Getpagesize())})
	}},
	InodeStorage: {Version: "5.10", Fn: func() error { return probeLocalStorageMapType(sys.BPF_MAP_TYPE_INODE_STORAGE) }},
	TaskStorage:  {Version: "5.11", Fn: func() error { return probeLocalStorageMapType(sys.BPF_MAP_TYPE_TASK_STORAGE) }},
	BloomFilter: {Version: "5.16", Fn: func() error {
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_BLOOM_FILTER, ValueSize: 4, MaxEntries: 1})
	}},
	UserRingbuf: {Version: "6.1", Fn: func() error {
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_USER_RINGBUF, MaxEntries: uint32(os.Getpagesize())})
	}},
	CgroupStorage: {Version: "6.2", Fn: func() error { return probeLocalStorageMapType(sys.BPF_MAP_TYPE_CGRP_STORAGE) }},
	Arena: {Version: "6.9", Fn: func() error {
		// MaxEntries counts pages.
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARENA, MaxEntries: 1, MapFlags: sys.BPF_F_MMAPABLE})
	}},
}

func init() {
	for mt, ft := range mapTypeProbes {
		ft.Name = "map type " + mt.String()
		if ft.Fn == nil {
			typ := sys.MapType(mt)
			ft.Fn = func() error {
				return probeMapCreate(&sys.MapCreateAttr{MapType: typ, KeySize: 4, ValueSize: 4, MaxEntries: 1})
			}
		}
	}
}

// haveMapType returns nil if the kernel supports maps of type mt, an error
// wrapping ErrNotSupported (naming the type and the first kernel with it)
// if it doesn't, and another error if the probe failed.
func haveMapType(mt MapType) error {
	if _, ok := mapTypeProbes[mt]; !ok {
		return fmt.Errorf("map type %s: %w", mt, ErrNotSupported)
	}
	return mapTypeProbes.Result(mt)
}

// probeMapCreate creates a map and closes it. EINVAL and E2BIG (an attr
// longer than the kernel's, with non-zero bytes it doesn't know) mean the
// kernel lacks what the attr asks for.
func probeMapCreate(attr *sys.MapCreateAttr) error {
	fd, err := sys.MapCreate(attr)
	if err == nil {
		return fd.Close()
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.E2BIG) {
		return ErrNotSupported
	}
	return err
}

// probeNestedMapType passes an invalid inner map fd: a kernel that knows
// the type gets as far as looking the fd up and fails with EBADF.
func probeNestedMapType(typ sys.MapType) error {
	err := probeMapCreate(&sys.MapCreateAttr{MapType: typ, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMapFd: ^uint32(0)})
	if errors.Is(err, unix.EBADF) {
		return nil
	}
	return err
}

// probeLocalStorageMapType probes for the local storage maps (sk, inode,
// task, cgroup), which need key and value BTF: an invalid BTF fd makes a
// kernel that knows the type fail with EBADF.
func probeLocalStorageMapType(typ sys.MapType) error {
	err := probeMapCreate(&sys.MapCreateAttr{
		MapType: typ, KeySize: 4, ValueSize: 4, MapFlags: sys.BPF_F_NO_PREALLOC,
		BtfFd: ^uint32(0), BtfKeyTypeId: 1, BtfValueTypeId: 1,
	})
	if errors.Is(err, unix.EBADF) {
		return nil
	}
	return err
}

// Probes for map creation features, each with the kernel that added it.
// Names are probed by haveObjName and objNameAllowsDot (syscalls.go).
var (
	// haveMapMutabilityModifiers: BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG and
	// BPF_MAP_FREEZE (5.2).
	haveMapMutabilityModifiers = internal.NewFeatureTest("read-only maps (BPF_F_RDONLY_PROG and freezing)", func() error {
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1, MapFlags: sys.BPF_F_RDONLY_PROG})
	}, "5.2")

	// haveMmapableMaps: arrays with BPF_F_MMAPABLE can be memory-mapped
	// (5.5).
	haveMmapableMaps = internal.NewFeatureTest("memory-mapped arrays (BPF_F_MMAPABLE)", func() error {
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1, MapFlags: sys.BPF_F_MMAPABLE})
	}, "5.5")

	// haveInnerMaps: BPF_F_INNER_MAP lets inner maps of an array of maps
	// differ in max_entries (5.10).
	haveInnerMaps = internal.NewFeatureTest("inner maps of any size (BPF_F_INNER_MAP)", func() error {
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1, MapFlags: sys.BPF_F_INNER_MAP})
	}, "5.10")

	// haveNoPreallocMaps: hash maps may be allocated lazily (4.6).
	haveNoPreallocMaps = internal.NewFeatureTest("lazily allocated maps (BPF_F_NO_PREALLOC)", func() error {
		return probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 4, MaxEntries: 1, MapFlags: sys.BPF_F_NO_PREALLOC})
	}, "4.6")

	// haveStructOpsLinkMaps: struct_ops maps with BPF_F_LINK, registered by
	// a link instead of by writing their value (6.4). Older kernels refuse
	// any flag on a struct_ops map with EINVAL; newer ones get as far as
	// looking up the (bogus) kernel struct and fail with ENOTSUPP.
	haveStructOpsLinkMaps = internal.NewFeatureTest("struct_ops maps with BPF_F_LINK", func() error {
		if err := haveMapType(StructOpsMap); err != nil {
			return err
		}
		err := probeMapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_STRUCT_OPS, KeySize: 4, ValueSize: 4, MaxEntries: 1, MapFlags: sys.BPF_F_LINK, BtfVmlinuxValueTypeId: 1})
		if errors.Is(err, sys.ENOTSUPP) {
			return nil
		}
		return err
	}, "6.4")

	// haveBatchAPI: BPF_MAP_LOOKUP_BATCH and friends on hash and array
	// maps (5.6).
	haveBatchAPI = internal.NewFeatureTest("batch map operations", probeBatchAPI, "5.6")
)

func probeBatchAPI() error {
	fd, err := sys.MapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	if err != nil {
		if errors.Is(err, unix.EINVAL) {
			return ErrNotSupported
		}
		return err
	}
	defer fd.Close()
	keys := []uint32{0, 1}
	values := []uint32{0, 0}
	attr := sys.MapUpdateBatchAttr{
		MapFd:  fd.Uint(),
		Keys:   sys.NewSlicePointer(keys),
		Values: sys.NewSlicePointer(values),
		Count:  2,
	}
	if err := sys.MapUpdateBatch(&attr); err != nil {
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, sys.ENOTSUPP) {
			return ErrNotSupported
		}
		return err
	}
	return nil
}
