package ebpf

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/typeprobe"
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

// haveMapType returns nil if the kernel supports maps of type mt, an error
// wrapping ErrNotSupported (naming the type and the first kernel with it,
// or saying the kernel was built without it) if it doesn't, and another
// error if the probe failed. The probes are internal/typeprobe's, shared
// with features.HaveMapType.
func haveMapType(mt MapType) error {
	err := typeprobe.HaveMapType(mt)
	if errors.Is(err, typeprobe.ErrUnknown) {
		return fmt.Errorf("map type %s: %w", mt, ErrNotSupported)
	}
	return err
}

// missingMapFlag returns the error of the lowest flag in flags that the
// kernel lacks, or nil. Flags come from internal/typeprobe's memoized
// table, shared with features.HaveMapFlag; flags it has no probe for are
// passed over.
func missingMapFlag(flags uint32) error {
	for flag := uint32(1); flag != 0; flag <<= 1 {
		if flags&flag == 0 {
			continue
		}
		if err := typeprobe.HaveMapFlag(flag); errors.Is(err, ErrNotSupported) {
			return err
		}
	}
	return nil
}

// Probes for map creation features, each with the kernel that added it.
// Names are probed by haveObjName and objNameAllowsDot (syscalls.go), map
// flags by missingMapFlag.
var (
	// haveMapMutabilityModifiers: BPF_MAP_FREEZE came with
	// BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG (5.2), so the flag's probe
	// answers for it.
	haveMapMutabilityModifiers = internal.NewFeatureTest("freezing maps (BPF_MAP_FREEZE)", func() error {
		if err := typeprobe.HaveMapFlag(sys.BPF_F_RDONLY_PROG); errors.Is(err, ErrNotSupported) {
			return internal.ErrNotSupported
		} else if err != nil {
			return err
		}
		return nil
	}, "5.2")

	// haveMmapableMaps: arrays with BPF_F_MMAPABLE can be memory-mapped
	// (5.5); the loader makes data sections mmapable where it can.
	haveMmapableMaps = func() error { return typeprobe.HaveMapFlag(sys.BPF_F_MMAPABLE) }

	// haveStructOpsLinkMaps: struct_ops maps with BPF_F_LINK, registered by
	// a link instead of by writing their value (6.4). Older kernels refuse
	// any flag on a struct_ops map with EINVAL; newer ones get as far as
	// looking up the (bogus) kernel struct and fail with ENOTSUPP.
	haveStructOpsLinkMaps = internal.NewFeatureTest("struct_ops maps with BPF_F_LINK", func() error {
		if err := haveMapType(StructOpsMap); err != nil {
			return err
		}
		err := typeprobe.CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_STRUCT_OPS, KeySize: 4, ValueSize: 4, MaxEntries: 1, MapFlags: sys.BPF_F_LINK, BtfVmlinuxValueTypeId: 1})
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
