package ebpf

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// MapID is the kernel's system-wide unique ID of a map (Linux 4.13).
type MapID uint32

// MapInfo describes a map as the kernel reports it. The exported fields
// are known for every map; the methods report fields that depend on the
// kernel's version, with a bool saying whether the value is available.
type MapInfo struct {
	// Type of the map.
	Type MapType
	// KeySize and ValueSize in bytes; for per-CPU maps ValueSize is that
	// of one CPU.
	KeySize   uint32
	ValueSize uint32
	// MaxEntries is the capacity; its meaning depends on the type.
	MaxEntries uint32
	// Flags the map was created with.
	Flags uint32
	// Name given at creation (Linux 4.15), at most 15 characters.
	Name string

	id       MapID
	btfID    btf.ID
	mapExtra uint64
	memlock  uint64
	frozen   bool
	// haveFdinfo says memlock and frozen were read from /proc.
	haveFdinfo bool

	// The key's and value's type IDs in the map's BTF, and the value's
	// in the kernel's (struct_ops).
	btfKey, btfValue, btfVmlinuxValue btf.TypeID
}

// Info asks the kernel about the map: one BPF_OBJ_GET_INFO_BY_FD (Linux
// 4.13) plus a read of /proc/self/fdinfo for the memory it charges and
// whether it is frozen.
func (m *Map) Info() (*MapInfo, error) {
	info, err := newMapInfoFromFd(m.fd)
	if err != nil {
		return nil, fmt.Errorf("info of %s: %w", m, err)
	}
	return info, nil
}

func newMapInfoFromFd(fd *sys.FD) (*MapInfo, error) {
	var info sys.MapInfo
	if err := sys.ObjInfo(fd, &info); err != nil {
		return nil, err
	}
	mi := &MapInfo{
		Type:       MapType(info.Type),
		KeySize:    info.KeySize,
		ValueSize:  info.ValueSize,
		MaxEntries: info.MaxEntries,
		Flags:      info.MapFlags,
		Name:       info.Name.String(),
		id:         MapID(info.Id),
		btfID:      btf.ID(info.BtfId),
		mapExtra:   info.MapExtra,

		btfKey:          btf.TypeID(info.BtfKeyTypeId),
		btfValue:        btf.TypeID(info.BtfValueTypeId),
		btfVmlinuxValue: btf.TypeID(info.BtfVmlinuxValueTypeId),
	}
	if fields, err := readFdinfo(fd); err == nil {
		mi.haveFdinfo = true
		mi.memlock, _ = strconv.ParseUint(fields["memlock"], 10, 64)
		mi.frozen = fields["frozen"] == "1"
	}
	return mi, nil
}

// ID returns the map's ID (Linux 4.13).
func (mi *MapInfo) ID() (MapID, bool) { return mi.id, mi.id > 0 }

// BTFID returns the ID of the BTF the map was created with (Linux 4.18);
// false if it has none. The ID stays valid while the map exists.
func (mi *MapInfo) BTFID() (btf.ID, bool) { return mi.btfID, mi.btfID > 0 }

// BTFKeyTypeID and BTFValueTypeID return the IDs of the key's and the
// value's type within the BTF that BTFID names (Linux 4.18); false if the
// map was created without one (an addition to cilium/ebpf's API).
func (mi *MapInfo) BTFKeyTypeID() (btf.TypeID, bool) { return mi.btfKey, mi.btfKey > 0 }

// BTFValueTypeID: see BTFKeyTypeID.
func (mi *MapInfo) BTFValueTypeID() (btf.TypeID, bool) { return mi.btfValue, mi.btfValue > 0 }

// BTFVmlinuxValueTypeID returns the ID of a struct_ops map's value type
// (bpf_struct_ops_NAME) in the kernel's BTF (Linux 5.6); false for other
// maps.
func (mi *MapInfo) BTFVmlinuxValueTypeID() (btf.TypeID, bool) {
	return mi.btfVmlinuxValue, mi.btfVmlinuxValue > 0
}

// MapExtra returns the map's map_extra (Linux 5.16): the number of hash
// functions of a bloom filter, the address of an arena. false if zero.
func (mi *MapInfo) MapExtra() (uint64, bool) { return mi.mapExtra, mi.mapExtra > 0 }

// Memlock returns roughly how many bytes of kernel memory the map takes
// (Linux 4.10, read from /proc/self/fdinfo).
func (mi *MapInfo) Memlock() (uint64, bool) { return mi.memlock, mi.memlock > 0 }

// Frozen reports whether the map was frozen (Linux 5.2, read from
// /proc/self/fdinfo): user space can no longer change it.
func (mi *MapInfo) Frozen() bool { return mi.frozen }

// NewMapFromID opens the map with the given ID (Linux 4.13). It fails with
// an error wrapping unix.ENOENT if there is none.
func NewMapFromID(id MapID) (*Map, error) {
	attr := sys.MapGetFdByIdAttr{MapId: uint32(id)}
	fd, err := sys.MapGetFdById(&attr)
	if err != nil {
		return nil, fmt.Errorf("open map ID %d: %w", id, err)
	}
	return newMapFromFD(fd)
}

// MapGetNextID returns the smallest map ID greater than startID (Linux
// 4.13), or an error wrapping unix.ENOENT (and os.ErrNotExist) when there
// is none. Listing maps needs CAP_SYS_ADMIN.
func MapGetNextID(startID MapID) (MapID, error) {
	attr := sys.MapGetNextIdAttr{StartId: uint32(startID)}
	if err := sys.MapGetNextId(&attr); err != nil {
		return 0, fmt.Errorf("next map ID after %d: %w", startID, err)
	}
	return MapID(attr.NextId), nil
}

// readFDLink returns what /proc/self/fd/N points to: for BPF objects
// "anon_inode:bpf-map", "anon_inode:bpf-prog" and so on.
func readFDLink(fd *sys.FD) (string, error) {
	target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd.Int()))
	runtime.KeepAlive(fd)
	return target, err
}

// readFdinfo reads the "key:\tvalue" lines the kernel prints for fd in
// /proc/self/fdinfo. A map's are a few hundred bytes; the read is bounded.
func readFdinfo(fd *sys.FD) (map[string]string, error) {
	f, err := os.Open("/proc/self/fdinfo/" + strconv.Itoa(fd.Int()))
	runtime.KeepAlive(fd)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64*1024))
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		k, v, ok := bytes.Cut(line, []byte{':'})
		if ok {
			fields[string(bytes.TrimSpace(k))] = string(bytes.TrimSpace(v))
		}
	}
	return fields, nil
}
