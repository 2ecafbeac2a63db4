package ebpf

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"github.com/bpfkit/ebpf/btf"
)

// MapSpec is a blueprint for a map: everything BPF_MAP_CREATE needs, plus
// the initial contents and how to pin it. It is a plain value; building or
// copying one makes no syscalls. NewMap turns it into a kernel object.
type MapSpec struct {
	// Name of the map. The kernel keeps the first 15 characters that are
	// alphanumeric, '_' or '.'; longer names are truncated when loading.
	Name       string
	Type       MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32

	// Flags passed to the kernel (BPF_F_NO_PREALLOC, BPF_F_MMAPABLE, ...).
	Flags uint32

	// Pinning says whether and how the map is pinned when loaded as part of
	// a collection.
	Pinning PinType

	// NumaNode is the NUMA node to allocate the map on; it is only used
	// when Flags contains BPF_F_NUMA_NODE.
	NumaNode uint32

	// Contents are written to the map after it is created.
	Contents []MapKV

	// InnerMap is the blueprint of the maps stored in an ArrayOfMaps or
	// HashOfMaps.
	InnerMap *MapSpec

	// MapExtra is the kernel's map_extra: the number of hash functions of a
	// bloom filter, or the start address of an arena. Requires 5.16.
	MapExtra uint64

	// Extra holds the bytes that followed a legacy map definition in the
	// ELF's maps section (e.g. iproute2's id and pinning fields).
	Extra *bytes.Reader

	// Key and Value describe the map's key and value types. They are
	// optional, but the kernel needs them for values with spin locks,
	// timers or kptrs.
	Key, Value btf.Type

	// Tags are the BTF decl tags attached to the map's variable.
	Tags []string

	// StructOpsPrograms names, for a StructOpsMap, the program that
	// implements each function pointer member of the value: member name
	// to the name of a program in the same CollectionSpec. The ELF reader
	// sets it from the relocations of the .struct_ops and
	// .struct_ops.link sections, so two maps of one struct type can point
	// the same member at different programs. When it is non-nil the
	// collection loader trusts it alone (a member it doesn't list stays
	// empty); when it is nil, a member gets the one program whose
	// AttachTo is "struct:member". Other map types ignore it.
	StructOpsPrograms map[string]string
}

// MapKV is a key and value to put into a map after it is created.
type MapKV struct {
	Key   any
	Value any
}

// String describes the spec briefly.
func (ms *MapSpec) String() string {
	return fmt.Sprintf("%s(keySize=%d, valueSize=%d, maxEntries=%d, flags=%d)", ms.Type, ms.KeySize, ms.ValueSize, ms.MaxEntries, ms.Flags)
}

// Copy returns a copy of the spec. Contents, the inner map spec, Tags and
// StructOpsPrograms are copied; BTF types are shared, since specs treat
// them as read-only.
//
// Copying is cheap: no BTF is duplicated.
func (ms *MapSpec) Copy() *MapSpec {
	if ms == nil {
		return nil
	}
	cpy := *ms
	cpy.Contents = slices.Clone(ms.Contents)
	for i, kv := range cpy.Contents {
		// Data sections keep their bytes in a []byte value; don't let the
		// copy write through to the original.
		if b, ok := kv.Value.([]byte); ok {
			cpy.Contents[i].Value = slices.Clone(b)
		}
	}
	cpy.InnerMap = ms.InnerMap.Copy()
	cpy.Tags = slices.Clone(ms.Tags)
	cpy.StructOpsPrograms = maps.Clone(ms.StructOpsPrograms)
	if ms.Extra != nil {
		extra := *ms.Extra
		cpy.Extra = &extra
	}
	return &cpy
}
