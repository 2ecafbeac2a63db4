package sys

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unsafe"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"
)

func hashMap(t *testing.T) *FD {
	return createMap(t, MapCreateAttr{
		MapType:    BPF_MAP_TYPE_HASH,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: 8,
		MapName:    NewObjName("sys_test"),
	})
}

func update(fd *FD, key uint32, value uint64, flags uint64) error {
	attr := MapUpdateElemAttr{MapFd: fd.Uint(), Key: ptrTo(&key), Value: ptrTo(&value), Flags: flags}
	return MapUpdateElem(&attr)
}

func lookup(fd *FD, key uint32) (uint64, error) {
	var value uint64
	attr := MapLookupElemAttr{MapFd: fd.Uint(), Key: ptrTo(&key), Value: ptrTo(&value)}
	return value, MapLookupElem(&attr)
}

func TestMapElements(t *testing.T) {
	requireBPF(t)
	m := hashMap(t)

	qt.Assert(t, qt.IsNil(update(m, 1, 42, BPF_ANY)))
	qt.Check(t, qt.ErrorIs(update(m, 1, 43, BPF_NOEXIST), unix.EEXIST))
	qt.Check(t, qt.ErrorIs(update(m, 2, 43, BPF_EXIST), unix.ENOENT))
	qt.Assert(t, qt.IsNil(update(m, 2, 7, BPF_NOEXIST)))

	v, err := lookup(m, 1)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(v, uint64(42)))

	// Walk the keys from the start (no key).
	var keys []uint32
	var next uint32
	attr := MapGetNextKeyAttr{MapFd: m.Uint(), NextKey: ptrTo(&next)}
	for MapGetNextKey(&attr) == nil {
		keys = append(keys, next)
		cur := next
		attr.Key = ptrTo(&cur)
	}
	slices.Sort(keys)
	qt.Check(t, qt.DeepEquals(keys, []uint32{1, 2}))

	key := uint32(1)
	del := MapDeleteElemAttr{MapFd: m.Uint(), Key: ptrTo(&key)}
	qt.Assert(t, qt.IsNil(MapDeleteElem(&del)))
	qt.Check(t, qt.ErrorIs(MapDeleteElem(&del), unix.ENOENT))
	_, err = lookup(m, 1)
	qt.Check(t, qt.ErrorIs(err, unix.ENOENT))

	key = 2
	var value uint64
	lad := MapLookupAndDeleteElemAttr{MapFd: m.Uint(), Key: ptrTo(&key), Value: ptrTo(&value)}
	qt.Assert(t, qt.IsNil(MapLookupAndDeleteElem(&lad)))
	qt.Check(t, qt.Equals(value, uint64(7)))
	_, err = lookup(m, 2)
	qt.Check(t, qt.ErrorIs(err, unix.ENOENT))
}

func TestMapBatch(t *testing.T) {
	requireBPF(t)
	m := hashMap(t)
	keys := []uint32{1, 2, 3}
	values := []uint64{10, 20, 30}
	up := MapUpdateBatchAttr{MapFd: m.Uint(), Keys: NewSlicePointer(keys), Values: NewSlicePointer(values), Count: 3}
	qt.Assert(t, qt.IsNil(MapUpdateBatch(&up)))
	qt.Check(t, qt.Equals(up.Count, uint32(3)))

	gotKeys, gotValues := make([]uint32, 8), make([]uint64, 8)
	var out uint32
	look := MapLookupBatchAttr{MapFd: m.Uint(), Keys: NewSlicePointer(gotKeys), Values: NewSlicePointer(gotValues),
		OutBatch: ptrTo(&out), Count: 8}
	// A hash map says ENOENT once the last batch is read.
	qt.Check(t, qt.ErrorIs(MapLookupBatch(&look), unix.ENOENT))
	qt.Assert(t, qt.Equals(look.Count, uint32(3)))
	got := map[uint32]uint64{}
	for i := range 3 {
		got[gotKeys[i]] = gotValues[i]
	}
	qt.Check(t, qt.DeepEquals(got, map[uint32]uint64{1: 10, 2: 20, 3: 30}))

	del := MapDeleteBatchAttr{MapFd: m.Uint(), Keys: NewSlicePointer(keys[:2]), Count: 2}
	qt.Assert(t, qt.IsNil(MapDeleteBatch(&del)))
	_, err := lookup(m, 1)
	qt.Check(t, qt.ErrorIs(err, unix.ENOENT))

	gotKeys[0] = 0
	lad := MapLookupAndDeleteBatchAttr{MapFd: m.Uint(), Keys: NewSlicePointer(gotKeys), Values: NewSlicePointer(gotValues),
		OutBatch: ptrTo(&out), Count: 8}
	qt.Check(t, qt.ErrorIs(MapLookupAndDeleteBatch(&lad), unix.ENOENT))
	qt.Check(t, qt.Equals(lad.Count, uint32(1)))
	qt.Check(t, qt.Equals(gotKeys[0], uint32(3)))
	_, err = lookup(m, 3)
	qt.Check(t, qt.ErrorIs(err, unix.ENOENT))
}

func TestMapFreeze(t *testing.T) {
	requireBPF(t)
	m := hashMap(t)
	qt.Assert(t, qt.IsNil(MapFreeze(&MapFreezeAttr{MapFd: m.Uint()})))
	// A frozen map refuses writes from user space.
	qt.Check(t, qt.ErrorIs(update(m, 1, 1, BPF_ANY), unix.EPERM))
}

func TestPinAndGet(t *testing.T) {
	dir := tempBPFFS(t)
	m := hashMap(t)
	qt.Assert(t, qt.IsNil(update(m, 5, 55, BPF_ANY)))

	path := filepath.Join(dir, "map")
	qt.Assert(t, qt.IsNil(ObjPin(&ObjPinAttr{Pathname: NewStringPointer(path), BpfFd: m.Uint()})))
	qt.Check(t, qt.ErrorIs(ObjPin(&ObjPinAttr{Pathname: NewStringPointer(path), BpfFd: m.Uint()}), unix.EEXIST))

	got, err := ObjGet(&ObjGetAttr{Pathname: NewStringPointer(path)})
	qt.Assert(t, qt.IsNil(err))
	defer got.Close()
	v, err := lookup(got, 5)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(v, uint64(55)))

	var a, b MapInfo
	qt.Assert(t, qt.IsNil(ObjInfo(m, &a)))
	qt.Assert(t, qt.IsNil(ObjInfo(got, &b)))
	qt.Check(t, qt.Equals(b.Id, a.Id))

	// Read-only and path_fd variants of BPF_OBJ_GET.
	ro, err := ObjGet(&ObjGetAttr{Pathname: NewStringPointer(path), FileFlags: BPF_F_RDONLY})
	qt.Assert(t, qt.IsNil(err))
	defer ro.Close()
	qt.Check(t, qt.ErrorIs(update(ro, 6, 6, BPF_ANY), unix.EPERM))

	_, err = ObjGet(&ObjGetAttr{Pathname: NewStringPointer(filepath.Join(dir, "missing"))})
	qt.Check(t, qt.ErrorIs(err, unix.ENOENT))
}

func TestPinAndGetPathFd(t *testing.T) {
	dir := tempBPFFS(t)
	requireKernel(t, "6.5", "BPF_F_PATH_FD")
	m := hashMap(t)
	dirFd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	qt.Assert(t, qt.IsNil(err))
	defer unix.Close(dirFd)
	pin := ObjPinAttr{Pathname: NewStringPointer("map"), BpfFd: m.Uint(), FileFlags: BPF_F_PATH_FD, PathFd: int32(dirFd)}
	qt.Assert(t, qt.IsNil(ObjPin(&pin)))
	rel, err := ObjGet(&ObjGetAttr{Pathname: NewStringPointer("map"), FileFlags: BPF_F_PATH_FD, PathFd: int32(dirFd)})
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.IsNil(rel.Close()))
	_, err = os.Stat(filepath.Join(dir, "map"))
	qt.Check(t, qt.IsNil(err))
}

func TestMapIDs(t *testing.T) {
	requireBPF(t)
	m := hashMap(t)
	var info MapInfo
	qt.Assert(t, qt.IsNil(ObjInfo(m, &info)))

	found := false
	attr := MapGetNextIdAttr{}
	for MapGetNextId(&attr) == nil {
		if attr.NextId == info.Id {
			found = true
			break
		}
		attr.StartId = attr.NextId
	}
	qt.Check(t, qt.IsTrue(found), qt.Commentf("map id %d not listed", info.Id))

	byID, err := MapGetFdById(&MapGetFdByIdAttr{MapId: info.Id})
	qt.Assert(t, qt.IsNil(err))
	defer byID.Close()
	var again MapInfo
	qt.Assert(t, qt.IsNil(ObjInfo(byID, &again)))
	qt.Check(t, qt.Equals(again, info))

	_, err = MapGetFdById(&MapGetFdByIdAttr{MapId: 0xffffffff})
	qt.Check(t, qt.ErrorIs(err, unix.ENOENT))
}

func TestProgLoadAndRun(t *testing.T) {
	requireBPF(t)
	prog := loadProg(t, BPF_PROG_TYPE_XDP, retInsns(2), "sys_xdp")

	data := make([]byte, 64) // at least an Ethernet header
	out := make([]byte, 64)
	attr := ProgRunAttr{
		ProgFd:      prog.Uint(),
		DataIn:      NewSlicePointer(data),
		DataSizeIn:  uint32(len(data)),
		DataOut:     NewSlicePointer(out),
		DataSizeOut: uint32(len(out)),
		Repeat:      10,
	}
	qt.Assert(t, qt.IsNil(ProgRun(&attr)))
	qt.Check(t, qt.Equals(attr.Retval, uint32(2))) // XDP_PASS
	qt.Check(t, qt.Equals(attr.DataSizeOut, uint32(len(data))))

	_, err := ProgGetFdById(&ProgGetFdByIdAttr{ProgId: 0xffffffff})
	qt.Check(t, qt.ErrorIs(err, unix.ENOENT))
}

func TestProgLoadRejected(t *testing.T) {
	requireBPF(t)
	// "exit" without setting r0: the verifier refuses and says why.
	insns := retInsns(0)[8:]
	log := make([]byte, 4096)
	attr := ProgLoadAttr{
		ProgType: BPF_PROG_TYPE_XDP,
		InsnCnt:  1,
		Insns:    NewSlicePointer(insns),
		License:  NewStringPointer("MIT"),
		LogLevel: 1,
		LogSize:  uint32(len(log)),
		LogBuf:   NewSlicePointer(log),
	}
	_, err := ProgLoad(&attr)
	qt.Assert(t, qt.ErrorIs(err, unix.EACCES))
	qt.Check(t, qt.StringContains(unix.ByteSliceToString(log), "R0 !read_ok"))

	// Since 6.4 the kernel reports the log size it needed.
	requireKernel(t, "6.4", "log_true_size")
	qt.Check(t, qt.Not(qt.Equals(attr.LogTrueSize, uint32(0))))
}

func TestBtfLoad(t *testing.T) {
	requireBPF(t)
	blob := intBTF()
	fd, err := BtfLoad(&BtfLoadAttr{Btf: NewSlicePointer(blob), BtfSize: uint32(len(blob))})
	qt.Assert(t, qt.IsNil(err))
	defer fd.Close()

	buf := make([]byte, len(blob))
	info := BtfInfo{Btf: NewSlicePointer(buf), BtfSize: uint32(len(buf))}
	qt.Assert(t, qt.IsNil(ObjInfo(fd, &info)))
	qt.Check(t, qt.DeepEquals(buf, blob))
	qt.Check(t, qt.Not(qt.Equals(info.Id, uint32(0))))

	byID, err := BtfGetFdById(&BtfGetFdByIdAttr{BtfId: info.Id})
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.IsNil(byID.Close()))

	found := false
	next := BtfGetNextIdAttr{}
	for BtfGetNextId(&next) == nil {
		if next.NextId == info.Id {
			found = true
			break
		}
		next.StartId = next.NextId
	}
	qt.Check(t, qt.IsTrue(found))
}

// intBTF is the smallest useful BTF blob: a header, one 32-bit signed int
// type named "int" and its string table.
func intBTF() []byte {
	strs := []byte("\x00int\x00")
	types := make([]byte, 16)
	put := func(b []byte, off int, v uint32) { *(*uint32)(unsafe.Pointer(&b[off])) = v }
	put(types, 0, 1)         // name_off
	put(types, 4, 1<<24)     // info: BTF_KIND_INT
	put(types, 8, 4)         // size
	put(types, 12, 1<<24|32) // BTF_INT_SIGNED, 32 bits
	hdr := make([]byte, 24)
	*(*uint16)(unsafe.Pointer(&hdr[0])) = 0xeB9F
	hdr[2] = 1 // version
	put(hdr, 4, 24)
	put(hdr, 8, 0)
	put(hdr, 12, uint32(len(types)))
	put(hdr, 16, uint32(len(types)))
	put(hdr, 20, uint32(len(strs)))
	return slices.Concat(hdr, types, strs)
}

// TestRawTracepointLink attaches to task_rename, which nothing runs
// through unless a thread renames itself, not to a syscall tracepoint:
// enabling one patches the syscall entry under every running thread, which
// has hung guests under qemu's TCG (see link/tracepoint_test.go).
func TestRawTracepointLink(t *testing.T) {
	requireBPF(t)
	prog := loadProg(t, BPF_PROG_TYPE_RAW_TRACEPOINT, retInsns(0), "sys_raw_tp")
	link, err := RawTracepointOpen(&RawTracepointOpenAttr{Name: NewStringPointer("task_rename"), ProgFd: prog.Uint()})
	qt.Assert(t, qt.IsNil(err))
	defer link.Close()

	name := make([]byte, 32)
	info := RawTracepointLinkInfo{TpName: NewSlicePointer(name), TpNameLen: uint32(len(name))}
	qt.Assert(t, qt.IsNil(ObjInfo(link, &info)))
	qt.Check(t, qt.Equals(info.Type, BPF_LINK_TYPE_RAW_TRACEPOINT))
	qt.Check(t, qt.Equals(unix.ByteSliceToString(name), "task_rename"))
	qt.Check(t, qt.Equals(info.TpNameLen, uint32(len("task_rename")+1)))

	var progInfo ProgInfo
	qt.Assert(t, qt.IsNil(ObjInfo(prog, &progInfo)))
	qt.Check(t, qt.Equals(info.ProgId, progInfo.Id))

	// A variant of another link type is refused, and left alone.
	var wrong KprobeLinkInfo
	err = ObjInfo(link, &wrong)
	qt.Check(t, qt.ErrorMatches(err, `object info: fd \d+ is a BPF_LINK_TYPE_RAW_TRACEPOINT link, \*sys.KprobeLinkInfo lays out another kind`))
	qt.Check(t, qt.Equals(wrong, KprobeLinkInfo{}))

	// The opaque LinkInfo reads the common part of any link.
	var common LinkInfo
	qt.Assert(t, qt.IsNil(ObjInfo(link, &common)))
	qt.Check(t, qt.Equals(common.Id, info.Id))

	// BPF_TASK_FD_QUERY finds the tracepoint behind the descriptor.
	tpName := make([]byte, 32)
	query := TaskFdQueryAttr{Pid: uint32(os.Getpid()), Fd: link.Uint(), Buf: NewSlicePointer(tpName), BufLen: uint32(len(tpName))}
	qt.Assert(t, qt.IsNil(TaskFdQuery(&query)))
	qt.Check(t, qt.Equals(query.FdType, BPF_FD_TYPE_RAW_TRACEPOINT))
	qt.Check(t, qt.Equals(query.ProgId, progInfo.Id))
	qt.Check(t, qt.Equals(unix.ByteSliceToString(tpName), "task_rename"))

	byID, err := LinkGetFdById(&LinkGetFdByIdAttr{LinkId: info.Id})
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.IsNil(byID.Close()))

	found := false
	next := LinkGetNextIdAttr{}
	for LinkGetNextId(&next) == nil {
		if next.NextId == info.Id {
			found = true
			break
		}
		next.StartId = next.NextId
	}
	qt.Check(t, qt.IsTrue(found))
}

func TestEnableStats(t *testing.T) {
	requireBPF(t)
	stats, err := EnableStats(&EnableStatsAttr{Type: BPF_STATS_RUN_TIME})
	qt.Assert(t, qt.IsNil(err))
	defer stats.Close()

	prog := loadProg(t, BPF_PROG_TYPE_XDP, retInsns(2), "sys_stats")
	data := make([]byte, 64)
	run := ProgRunAttr{ProgFd: prog.Uint(), DataIn: NewSlicePointer(data), DataSizeIn: 64, Repeat: 5}
	qt.Assert(t, qt.IsNil(ProgRun(&run)))
	var info ProgInfo
	qt.Assert(t, qt.IsNil(ObjInfo(prog, &info)))
	qt.Check(t, qt.Equals(info.RunCnt, uint64(5)))
}

func TestProgBindMap(t *testing.T) {
	requireBPF(t)
	prog := loadProg(t, BPF_PROG_TYPE_XDP, retInsns(2), "sys_bind")
	m := hashMap(t)
	qt.Assert(t, qt.IsNil(ProgBindMap(&ProgBindMapAttr{ProgFd: prog.Uint(), MapFd: m.Uint()})))

	var mapInfo MapInfo
	qt.Assert(t, qt.IsNil(ObjInfo(m, &mapInfo)))
	ids := make([]uint32, 4)
	info := ProgInfo{NrMapIds: uint32(len(ids)), MapIds: NewSlicePointer(ids)}
	qt.Assert(t, qt.IsNil(ObjInfo(prog, &info)))
	qt.Check(t, qt.Equals(info.NrMapIds, uint32(1)))
	qt.Check(t, qt.Equals(ids[0], mapInfo.Id))
}
