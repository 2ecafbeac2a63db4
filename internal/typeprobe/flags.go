package typeprobe

import (
	"fmt"

	"github.com/bpfkit/ebpf/internal/sys"
)

// HaveMapFlag reports whether the kernel accepts flag, one BPF_F_* value,
// when creating a map: nil, an error wrapping internal.ErrNotSupported
// that names the flag, what it is for and the first kernel with it ("map
// flag BPF_F_MMAPABLE (memory-mapped arrays) not supported (requires >=
// v5.5)"), or another error if the probe itself failed (not memoized).
// Flags without a probe, and values that aren't one flag, give ErrUnknown.
//
// The first call for a flag creates a one-entry array (a hash for
// BPF_F_NO_PREALLOC) with it and closes it; later calls take a mutex.
func HaveMapFlag(flag uint32) error {
	f := mapFlags[flag]
	if f == nil {
		return fmt.Errorf("map flag %#x: %w", flag, ErrUnknown)
	}
	return f.result(f.name)
}

// MapFlagVersion returns the first kernel that accepts map flag flag, or
// false if the table doesn't know it.
func MapFlagVersion(flag uint32) (string, bool) {
	f := mapFlags[flag]
	if f == nil {
		return "", false
	}
	return f.version, true
}

// mapFlag is the probe of one map flag.
type mapFlag struct {
	name string // as errors print it
	probe
}

func newMapFlag(flag uint32, name, what, version string, typ sys.MapType) *mapFlag {
	return &mapFlag{
		name: fmt.Sprintf("map flag %s (%s)", name, what),
		probe: probe{version: version, fn: func() error {
			// An unknown flag makes the kernel answer EINVAL.
			return CreateMap(&sys.MapCreateAttr{MapType: typ, KeySize: 4, ValueSize: 4, MaxEntries: 1, MapFlags: flag})
		}},
	}
}

// mapFlags has a probe for each map flag that a user or the loader may
// need to explain: the flags of features.HaveMapFlag.
var mapFlags = map[uint32]*mapFlag{
	sys.BPF_F_NO_PREALLOC: newMapFlag(sys.BPF_F_NO_PREALLOC, "BPF_F_NO_PREALLOC", "lazily allocated hash maps", "4.6", sys.BPF_MAP_TYPE_HASH),
	sys.BPF_F_RDONLY_PROG: newMapFlag(sys.BPF_F_RDONLY_PROG, "BPF_F_RDONLY_PROG", "maps read-only for programs", "5.2", sys.BPF_MAP_TYPE_ARRAY),
	sys.BPF_F_WRONLY_PROG: newMapFlag(sys.BPF_F_WRONLY_PROG, "BPF_F_WRONLY_PROG", "maps write-only for programs", "5.2", sys.BPF_MAP_TYPE_ARRAY),
	sys.BPF_F_MMAPABLE:    newMapFlag(sys.BPF_F_MMAPABLE, "BPF_F_MMAPABLE", "memory-mapped arrays", "5.5", sys.BPF_MAP_TYPE_ARRAY),
	sys.BPF_F_INNER_MAP:   newMapFlag(sys.BPF_F_INNER_MAP, "BPF_F_INNER_MAP", "inner maps of any size", "5.10", sys.BPF_MAP_TYPE_ARRAY),
}
