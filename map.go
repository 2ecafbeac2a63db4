package ebpf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/sysenc"
)

// MapOptions control loading a map into the kernel.
type MapOptions struct {
	// PinPath is the directory on a bpffs that maps with Pinning set to
	// PinByName are pinned in, each as a file named after the map. An
	// existing pin of a compatible map is used instead of creating a new
	// map; an incompatible one is an error wrapping ErrMapIncompatible.
	PinPath string
	// LoadPinOptions are used when opening an existing pin.
	LoadPinOptions LoadPinOptions
}

// Map is a map in the kernel: a file descriptor plus what it takes to
// encode keys and values for it.
//
// Keys and values are passed as `any` and encoded by internal/sysenc: a
// fixed-size value (integers, floats, bools, arrays and structs of them;
// no pointers, slices, strings, int or uintptr), a pointer to one, a slice
// of them, []byte, an unsafe.Pointer to memory of the right size, or a type
// implementing encoding.BinaryMarshaler and encoding.BinaryUnmarshaler.
// Values whose Go layout is the kernel's are handed to bpf(2) in place:
// Lookup, Update and Delete with such types make no allocation. Padding
// bytes are zeroed before the kernel sees them, bools read back as 0 or 1.
//
// Methods never retain key or value arguments after they return, and tell
// the compiler so (see sysenc.NoEscape): MarshalBinary and UnmarshalBinary
// methods called by them must not retain their receiver either.
//
// All methods are safe for concurrent use, with one exception: Close must
// not race with other methods, since the descriptor number may be reused
// by the time a concurrent call reaches the kernel (as with os.File's Fd).
type Map struct {
	name       string
	fd         *sys.FD
	typ        MapType
	keySize    uint32
	valueSize  uint32
	maxEntries uint32
	flags      uint32

	// fullValueSize is the size of a value as bpf(2) transfers it: for
	// per-CPU maps one 8-byte aligned slot per possible CPU.
	fullValueSize int
	perCPU        bool
	fdValues      bool

	// Codecs of the last key and value types seen, for arguments going
	// to the kernel and for results coming back.
	keyCodecs, valueCodecs       sysenc.Cache
	keyOutCodecs, valueOutCodecs sysenc.Cache
	errs                         *mapErrors

	mu         sync.Mutex // guards pinnedPath and memory
	pinnedPath string
	memory     *Memory
}

// NewMap creates a map from spec. It is NewMapWithOptions with no options.
func NewMap(spec *MapSpec) (*Map, error) {
	return NewMapWithOptions(spec, MapOptions{})
}

// NewMapWithOptions creates a map from spec and fills it with
// spec.Contents. Maps of data sections whose contents are constant
// (.rodata, .kconfig) are frozen afterwards.
//
// A spec with Pinning PinByName is first looked up in opts.PinPath: a
// compatible pinned map is returned as it is (its contents untouched, as
// libbpf does), an incompatible one is an error wrapping
// ErrMapIncompatible. Otherwise the new map is pinned there once filled.
//
// Costs one BPF_MAP_CREATE (plus one for an inner map template, one to load
// key and value BTF) and one update per entry of Contents. The first map of
// a process also probes the kernel's features. Kernels before 5.11 charge
// maps to RLIMIT_MEMLOCK: see rlimit.RemoveMemlock.
func NewMapWithOptions(spec *MapSpec, opts MapOptions) (*Map, error) {
	m, reused, err := newMapWithOptions(spec, opts)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", mapSpecName(spec), err)
	}
	if reused {
		return m, nil
	}
	if err := m.finalize(spec); err != nil {
		m.Close()
		return nil, fmt.Errorf("map %s: %w", mapSpecName(spec), err)
	}
	if spec.Pinning == PinByName {
		if err := m.pinByName(spec.Name, opts.PinPath); err != nil {
			m.Close()
			return nil, fmt.Errorf("map %s: %w", mapSpecName(spec), err)
		}
	}
	return m, nil
}

func mapSpecName(spec *MapSpec) string {
	if spec == nil || spec.Name == "" {
		return "(unnamed)"
	}
	return fmt.Sprintf("%q", spec.Name)
}

// newMapWithOptions is newMapWithCache without a shared BTF cache.
func newMapWithOptions(spec *MapSpec, opts MapOptions) (_ *Map, reused bool, _ error) {
	return newMapWithCache(spec, opts, nil)
}

// newMapWithCache returns the pinned map that a PinByName spec refers to
// (reused is true), or creates a map, neither filled nor pinned: the
// collection loader fills maps that reference programs after loading
// those, then calls finalize and pinByName itself. Kernel types (of
// struct_ops maps) are looked up in cache; nil means a new cache.
func newMapWithCache(spec *MapSpec, opts MapOptions, cache *btf.Cache) (_ *Map, reused bool, _ error) {
	if spec == nil {
		return nil, false, errors.New("nil MapSpec")
	}
	switch spec.Pinning {
	case PinNone:
	case PinByName:
		if spec.Name == "" {
			return nil, false, errors.New("pin by name: the spec has no Name")
		}
		if opts.PinPath == "" {
			return nil, false, errors.New("pin by name: MapOptions.PinPath is empty")
		}
		path := filepath.Join(opts.PinPath, spec.Name)
		m, err := LoadPinnedMap(path, &opts.LoadPinOptions)
		if errors.Is(err, unix.ENOENT) {
			break
		}
		if err != nil {
			return nil, false, fmt.Errorf("open pinned map: %w", err)
		}
		if err := spec.Compatible(m); err != nil {
			m.Close()
			return nil, false, fmt.Errorf("use pinned map %s: %w", path, err)
		}
		return m, true, nil
	default:
		return nil, false, fmt.Errorf("pin type %s: %w", spec.Pinning, ErrNotSupported)
	}

	var inner *sys.FD
	if spec.Type.canStoreMap() {
		if spec.InnerMap == nil {
			return nil, false, fmt.Errorf("%s needs an InnerMap spec", spec.Type)
		}
		if spec.InnerMap.Pinning != PinNone {
			return nil, false, errors.New("inner maps can't be pinned")
		}
		// The kernel only copies the template's properties: it may be
		// closed as soon as the outer map exists.
		template, err := createMap(spec.InnerMap, nil, cache)
		if err != nil {
			return nil, false, fmt.Errorf("inner map: %w", err)
		}
		defer template.Close()
		inner = template.fd
	}

	m, err := createMap(spec, inner, cache)
	if err != nil {
		return nil, false, err
	}
	return m, false, nil
}

// finalize writes spec.Contents into a map created from spec and freezes
// the maps of constant data sections.
func (m *Map) finalize(spec *MapSpec) error {
	for i, kv := range spec.Contents {
		if err := m.Put(kv.Key, kv.Value); err != nil {
			return fmt.Errorf("contents: entry %d (key %v): %w", i, kv.Key, err)
		}
	}
	if isConstantDataSection(spec.Name) || spec.Name == ".kconfig" {
		if err := m.Freeze(); err != nil {
			return err
		}
	}
	return nil
}

// pinByName pins m as dir/name.
func (m *Map) pinByName(name, dir string) error {
	return m.Pin(filepath.Join(dir, name))
}

// fixupMagicFields fills in what specs from ELF files leave to the loader:
// the value size of map-in-maps (a descriptor) and the size of perf event
// arrays and CPU maps (one entry per possible CPU, as libbpf does). It
// returns spec itself when nothing changes, a copy otherwise.
func (spec *MapSpec) fixupMagicFields() (*MapSpec, error) {
	switch {
	case spec.Type.canStoreMap():
		if spec.ValueSize != 0 && spec.ValueSize != 4 {
			return nil, fmt.Errorf("%s: ValueSize must be 0 or 4, not %d", spec.Type, spec.ValueSize)
		}
		if spec.ValueSize == 0 {
			spec = spec.Copy()
			spec.ValueSize = 4
		}
	case spec.Type == PerfEventArray:
		if spec.KeySize != 0 && spec.KeySize != 4 {
			return nil, fmt.Errorf("%s: KeySize must be 0 or 4, not %d", spec.Type, spec.KeySize)
		}
		if spec.ValueSize != 0 && spec.ValueSize != 4 {
			return nil, fmt.Errorf("%s: ValueSize must be 0 or 4, not %d", spec.Type, spec.ValueSize)
		}
		n, err := PossibleCPU()
		if err != nil {
			return nil, err
		}
		spec = spec.Copy()
		spec.KeySize, spec.ValueSize = 4, 4
		// Some programs declare a large constant; more entries than CPUs
		// are useless, so clamp like libbpf.
		if spec.MaxEntries == 0 || spec.MaxEntries > uint32(n) {
			spec.MaxEntries = uint32(n)
		}
	case spec.Type == CPUMap:
		n, err := PossibleCPU()
		if err != nil {
			return nil, err
		}
		if spec.MaxEntries == 0 || spec.MaxEntries > uint32(n) {
			spec = spec.Copy()
			spec.MaxEntries = uint32(n)
		}
	}
	return spec, nil
}

// createMap creates a map from spec; inner is the template of a map-in-map,
// cache (nil for a new one) where struct_ops maps find their kernel type.
// It neither fills nor pins the map.
func createMap(spec *MapSpec, inner *sys.FD, cache *btf.Cache) (_ *Map, err error) {
	if spec.Extra != nil {
		// Legacy map definitions may carry more fields than we know;
		// they are fine as long as they are zero. Read a copy: the spec
		// stays as it was.
		extra := *spec.Extra
		if _, err := io.Copy(zeroWriter{}, &extra); err != nil {
			return nil, fmt.Errorf("extra bytes of the map definition: %w", err)
		}
	}
	if spec.Type == UnspecifiedMap {
		return nil, errors.New("map type is unspecified")
	}
	spec, err = spec.fixupMagicFields()
	if err != nil {
		return nil, err
	}
	attr := sys.MapCreateAttr{
		MapType:    sys.MapType(spec.Type),
		KeySize:    spec.KeySize,
		ValueSize:  spec.ValueSize,
		MaxEntries: spec.MaxEntries,
		MapFlags:   spec.Flags,
		NumaNode:   spec.NumaNode,
		MapExtra:   spec.MapExtra,
	}
	if inner != nil {
		attr.InnerMapFd = inner.Uint()
	}
	if name, err := objName(spec.Name); err != nil {
		return nil, err
	} else {
		attr.MapName = name
	}

	if spec.Type == StructOpsMap {
		kv, err := prepareStructOpsMap(spec, &attr, cache)
		if err != nil {
			return nil, err
		}
		defer kv.handle.Close()
	} else if spec.Value != nil && spec.Type.takesBTF() {
		// The kernel refuses a key type without a value type (EINVAL), so
		// a spec without Value gets no BTF at all: ELF maps of maps and
		// program arrays declare a key but no value type.
		kv, err := loadMapBTF(spec.Key, spec.Value)
		if err != nil {
			return nil, err
		}
		if kv != nil {
			defer kv.handle.Close()
			attr.BtfFd = kv.fd()
			attr.BtfKeyTypeId = uint32(kv.keyID)
			attr.BtfValueTypeId = uint32(kv.valueID)
		}
	}

	fd, err := sys.MapCreate(&attr)
	if err != nil && attr.BtfFd != 0 && spec.Type != StructOpsMap &&
		(errors.Is(err, unix.EINVAL) || errors.Is(err, sys.ENOTSUPP)) && !needsBTF(spec.Value) {
		// The kernel rejected the key/value BTF, not the map: a key type
		// its checks refuse (a bloom filter's must be void; local storage
		// wants an int), or a kernel older than the type's BTF checks.
		// The map works without it.
		attr.BtfFd, attr.BtfKeyTypeId, attr.BtfValueTypeId = 0, 0, 0
		fd, err = sys.MapCreate(&attr)
	}
	if err != nil {
		return nil, explainMapCreateError(spec, &attr, err)
	}
	return newMap(fd, spec.Name, spec.Type, attr.KeySize, attr.ValueSize, attr.MaxEntries, spec.Flags)
}

// explainMapCreateError turns a failed BPF_MAP_CREATE into an error that
// names a missing feature or the likely mistake. attr is what the kernel
// was given, after the defaults createMap fills in.
func explainMapCreateError(spec *MapSpec, attr *sys.MapCreateAttr, err error) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("create: %w", err)
	}
	if err := haveMapType(spec.Type); errors.Is(err, ErrNotSupported) {
		return fmt.Errorf("create: %w", err)
	}
	var missing error
	if spec.Type == StructOpsMap && spec.Flags&sys.BPF_F_LINK != 0 {
		missing = haveStructOpsLinkMaps()
	} else {
		missing = missingMapFlag(spec.Flags)
	}
	if errors.Is(missing, ErrNotSupported) {
		return fmt.Errorf("create: %w", missing)
	}
	if errors.Is(err, unix.EINVAL) {
		switch {
		case spec.Type == StructOpsMap:
			if attr.KeySize != 4 || attr.MaxEntries != 1 {
				return fmt.Errorf("create: %w (%s maps need KeySize 4 and MaxEntries 1)", err, spec.Type)
			}
		case spec.MaxEntries == 0 && !spec.Type.mustHaveZeroMaxEntries():
			return fmt.Errorf("create: %w (MaxEntries is zero)", err)
		case spec.MaxEntries != 0 && spec.Type.mustHaveZeroMaxEntries():
			return fmt.Errorf("create: %w (%s maps need MaxEntries 0)", err, spec.Type)
		case spec.Flags&sys.BPF_F_NO_PREALLOC == 0 && spec.Type.mustHaveNoPrealloc():
			return fmt.Errorf("create: %w (%s maps need BPF_F_NO_PREALLOC)", err, spec.Type)
		case (spec.Type == RingBuf || spec.Type == UserRingbuf) && !isPageMultiplePow2(spec.MaxEntries):
			return fmt.Errorf("create: %w (the size of a ring buffer must be a power of two multiple of the page size, not %d)", err, spec.MaxEntries)
		}
	}
	return fmt.Errorf("create: %w", err)
}

func isPageMultiplePow2(n uint32) bool {
	page := uint32(unix.Getpagesize())
	return n != 0 && n%page == 0 && n&(n-1) == 0
}

// zeroWriter accepts only zero bytes.
type zeroWriter struct{}

func (zeroWriter) Write(p []byte) (int, error) {
	if i := bytes.IndexFunc(p, func(r rune) bool { return r != 0 }); i >= 0 {
		return i, errors.New("non-zero bytes this library doesn't understand")
	}
	return len(p), nil
}

// newMap wraps fd, taking ownership: on error fd is closed.
func newMap(fd *sys.FD, name string, typ MapType, keySize, valueSize, maxEntries, flags uint32) (*Map, error) {
	m := &Map{
		name:          name,
		fd:            fd,
		typ:           typ,
		keySize:       keySize,
		valueSize:     valueSize,
		maxEntries:    maxEntries,
		flags:         flags,
		fullValueSize: int(valueSize),
		perCPU:        typ.hasPerCPUValue(),
		fdValues:      typ.storesFDs(),
	}
	if m.perCPU {
		n, err := PossibleCPU()
		if err != nil {
			fd.Close()
			return nil, err
		}
		m.fullValueSize = perCPUStride(int(valueSize)) * n
	}
	m.errs = newMapErrors(m)
	return m, nil
}

// perCPUStride is the distance between the values of two CPUs: the kernel
// aligns each to 8 bytes.
func perCPUStride(valueSize int) int {
	return (valueSize + 7) &^ 7
}

// NewMapFromFD wraps an existing map descriptor, which the Map owns
// afterwards: don't use or close fd yourself. It reads the map's
// properties with BPF_OBJ_GET_INFO_BY_FD (Linux 4.13) and fails if fd
// isn't a map.
func NewMapFromFD(fd int) (*Map, error) {
	f, err := sys.NewFD(fd)
	if err != nil {
		return nil, err
	}
	return newMapFromFD(f)
}

// newMapFromFD takes ownership of fd.
func newMapFromFD(fd *sys.FD) (*Map, error) {
	if err := checkObjectKind(fd, "bpf-map"); err != nil {
		fd.Close()
		return nil, err
	}
	var info sys.MapInfo
	if err := sys.ObjInfo(fd, &info); err != nil {
		fd.Close()
		return nil, fmt.Errorf("map info: %w", err)
	}
	return newMap(fd, info.Name.String(), MapType(info.Type), info.KeySize, info.ValueSize, info.MaxEntries, info.MapFlags)
}

// checkObjectKind makes sure fd refers to a BPF object of the given kind
// ("bpf-map", "bpf-prog", "bpf_link"): BPF_OBJ_GET_INFO_BY_FD happily
// fills a map info struct from a program. The kernel names the anonymous
// inode of each kind; without /proc the check is skipped.
func checkObjectKind(fd *sys.FD, kind string) error {
	target, err := readFDLink(fd)
	if err != nil {
		return nil
	}
	if have, ok := strings.CutPrefix(target, "anon_inode:"); ok && have != kind {
		return fmt.Errorf("%s refers to a %s, not a %s", fd, have, kind)
	}
	return nil
}

// String describes the map: "Hash(counters)#fd 7".
func (m *Map) String() string {
	if m.name != "" {
		return fmt.Sprintf("%s(%s)#%v", m.typ, m.name, m.fd)
	}
	return fmt.Sprintf("%s#%v", m.typ, m.fd)
}

// Type returns the map's type.
func (m *Map) Type() MapType { return m.typ }

// KeySize returns the size of a key in bytes.
func (m *Map) KeySize() uint32 { return m.keySize }

// ValueSize returns the size of a value in bytes; for per-CPU maps, of the
// value of one CPU.
func (m *Map) ValueSize() uint32 { return m.valueSize }

// MaxEntries returns the capacity of the map; its meaning depends on the
// type (pages for an arena, bytes for a ring buffer).
func (m *Map) MaxEntries() uint32 { return m.maxEntries }

// Flags returns the flags the map was created with.
func (m *Map) Flags() uint32 { return m.flags }

// FD returns the map's file descriptor, or -1 once closed. The Map keeps
// owning it.
func (m *Map) FD() int { return m.fd.Int() }

// Close releases the map's descriptor; the kernel frees the map once no
// program, pin or other descriptor holds it. Closing twice, or a nil Map,
// is harmless. Close doesn't unmap a Memory obtained from the map: its
// mapping lives as long as the Memory.
func (m *Map) Close() error {
	if m == nil {
		return nil
	}
	return m.fd.Close()
}

// Clone returns a second Map for the same kernel map, with its own
// descriptor: closing one doesn't affect the other. The clone is not
// pinned even if m is. Cloning a nil Map returns nil. Costs one fcntl(2).
func (m *Map) Clone() (*Map, error) {
	if m == nil {
		return nil, nil
	}
	dup, err := m.fd.Dup()
	if err != nil {
		return nil, fmt.Errorf("clone %s: %w", m, err)
	}
	return newMap(dup, m.name, m.typ, m.keySize, m.valueSize, m.maxEntries, m.flags)
}

// Freeze makes the map read-only for user space (bpf(2)); programs may
// still write to it unless it was created with BPF_F_RDONLY_PROG. Requires
// Linux 5.2.
func (m *Map) Freeze() error {
	attr := sys.MapFreezeAttr{MapFd: m.fd.Uint()}
	if err := sys.MapFreeze(&attr); err != nil {
		if missing := haveMapMutabilityModifiers(); errors.Is(missing, ErrNotSupported) {
			return fmt.Errorf("freeze %s: %w", m, missing)
		}
		return fmt.Errorf("freeze %s: %w", m, err)
	}
	return nil
}

// Compatible returns nil if m may stand in for a map created from ms (for
// example a pinned map, or a replacement given to a collection): same
// type, key and value size, capacity and flags, after the fixups NewMap
// applies (value size of map-in-maps, capacity of perf event arrays and
// CPU maps). Otherwise the error lists every difference and wraps
// ErrMapIncompatible.
func (ms *MapSpec) Compatible(m *Map) error {
	if m == nil {
		return fmt.Errorf("nil Map: %w", ErrMapIncompatible)
	}
	spec, err := ms.fixupMagicFields()
	if err != nil {
		return err
	}
	var diffs []string
	if m.typ != spec.Type {
		diffs = append(diffs, fmt.Sprintf("type is %s, want %s", m.typ, spec.Type))
	}
	if m.keySize != spec.KeySize {
		diffs = append(diffs, fmt.Sprintf("key size is %d, want %d", m.keySize, spec.KeySize))
	}
	if m.valueSize != spec.ValueSize {
		diffs = append(diffs, fmt.Sprintf("value size is %d, want %d", m.valueSize, spec.ValueSize))
	}
	if m.maxEntries != spec.MaxEntries {
		diffs = append(diffs, fmt.Sprintf("max entries is %d, want %d", m.maxEntries, spec.MaxEntries))
	}
	flags := spec.Flags
	if spec.Type == DevMap || spec.Type == DevMapHash {
		// The kernel adds BPF_F_RDONLY_PROG to device maps itself (5.8).
		flags |= m.flags & sys.BPF_F_RDONLY_PROG
	}
	if m.flags != flags {
		diffs = append(diffs, fmt.Sprintf("flags are %#x, want %#x", m.flags, flags))
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s: %w", m, strings.Join(diffs, ", "), ErrMapIncompatible)
}
