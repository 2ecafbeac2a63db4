package ebpf

import (
	"fmt"

	"github.com/bpfkit/ebpf/internal/pinning"
	"github.com/bpfkit/ebpf/internal/sys"
)

// LoadPinOptions control how a pinned object is opened.
type LoadPinOptions struct {
	// ReadOnly and WriteOnly ask for a descriptor that may only read or
	// only write the object (BPF_F_RDONLY, BPF_F_WRONLY). At most one may
	// be set; the default is read-write.
	ReadOnly  bool
	WriteOnly bool

	// Flags are raw BPF_OBJ_GET file flags, combined with the fields above.
	Flags uint32
}

// Marshal returns the file flags of BPF_OBJ_GET for the options; nil
// options mean none.
func (lpo *LoadPinOptions) Marshal() uint32 {
	if lpo == nil {
		return 0
	}
	flags := lpo.Flags
	if lpo.ReadOnly {
		flags |= sys.BPF_F_RDONLY
	}
	if lpo.WriteOnly {
		flags |= sys.BPF_F_WRONLY
	}
	return flags
}

// LoadPinnedMap opens the map pinned at fileName on a bpffs. It fails with
// an error wrapping unix.ENOENT (and os.ErrNotExist) if nothing is pinned
// there, and names the kind of object if it isn't a map. Requires Linux
// 4.4, and 4.13 to learn the map's properties.
func LoadPinnedMap(fileName string, opts *LoadPinOptions) (*Map, error) {
	attr := sys.ObjGetAttr{
		Pathname:  sys.NewStringPointer(fileName),
		FileFlags: opts.Marshal(),
	}
	fd, err := sys.ObjGet(&attr)
	if err != nil {
		return nil, fmt.Errorf("load pinned map %s: %w", fileName, err)
	}
	m, err := newMapFromFD(fd)
	if err != nil {
		return nil, fmt.Errorf("load pinned map %s: %w", fileName, err)
	}
	m.pinnedPath = fileName
	return m, nil
}

// Pin makes the map outlive the process as the file fileName on a bpffs
// (mounted at /sys/fs/bpf by most systems). A map pinned elsewhere already
// is moved (renamed) to fileName, which must not exist; pinning to the
// current path does nothing. Requires Linux 4.4.
func (m *Map) Pin(fileName string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	path, err := pinning.Pin(m.pinnedPath, fileName, m.fd)
	m.pinnedPath = path
	if err != nil {
		return fmt.Errorf("pin %s: %w", m, err)
	}
	return nil
}

// Unpin removes the map's pin. The map lives on while descriptors or
// programs refer to it. Unpinning a map that isn't pinned, or whose pin
// was removed by someone else, does nothing; after a failure IsPinned
// still reports true.
func (m *Map) Unpin() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := pinning.Unpin(m.pinnedPath); err != nil {
		return fmt.Errorf("unpin %s: %w", m, err)
	}
	m.pinnedPath = ""
	return nil
}

// IsPinned reports whether the map was pinned by Pin (or opened from a
// pin) and not unpinned since.
func (m *Map) IsPinned() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pinnedPath != ""
}
