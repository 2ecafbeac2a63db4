package ebpf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// newTestMap creates a map for a test and closes it afterwards. A kernel
// without the map type or a flag skips the test, naming what it lacks.
func newTestMap(tb testing.TB, spec *MapSpec) *Map {
	tb.Helper()
	testutils.RequireRoot(tb)
	m, err := NewMap(spec)
	testutils.SkipIfNotSupported(tb, err)
	qt.Assert(tb, qt.IsNil(err))
	tb.Cleanup(func() { m.Close() })
	return m
}

// mapTestProgram loads a socket filter returning value, for program arrays.
func mapTestProgram(tb testing.TB, value int32) *Program {
	tb.Helper()
	prog, err := NewProgram(&ProgramSpec{
		Name:         "map_test",
		Type:         SocketFilter,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, value), asm.Return()},
		License:      "MIT",
	})
	qt.Assert(tb, qt.IsNil(err))
	tb.Cleanup(func() { prog.Close() })
	return prog
}

func TestMapBasics(t *testing.T) {
	m := newTestMap(t, &MapSpec{Name: "basics", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4})

	qt.Assert(t, qt.Equals(m.Type(), Hash))
	qt.Assert(t, qt.Equals(m.KeySize(), 4))
	qt.Assert(t, qt.Equals(m.ValueSize(), 8))
	qt.Assert(t, qt.Equals(m.MaxEntries(), 4))
	qt.Assert(t, qt.Equals(m.Flags(), 0))
	qt.Assert(t, qt.Matches(m.String(), `Hash\(basics\)#fd \d+`))
	qt.Assert(t, qt.IsTrue(m.FD() > 0))

	qt.Assert(t, qt.IsNil(m.Put(uint32(1), uint64(42))))
	var v uint64
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(1), &v)))
	qt.Assert(t, qt.Equals(v, 42))

	err := m.Lookup(uint32(2), &v)
	qt.Assert(t, qt.ErrorIs(err, ErrKeyNotExist))
	qt.Assert(t, qt.ErrorIs(err, unix.ENOENT))
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.Equals(err.Error(), "map basics: lookup: key does not exist"))

	err = m.Update(uint32(1), uint64(1), UpdateNoExist)
	qt.Assert(t, qt.ErrorIs(err, ErrKeyExist))
	qt.Assert(t, qt.ErrorIs(err, unix.EEXIST))
	qt.Assert(t, qt.ErrorIs(m.Update(uint32(3), uint64(1), UpdateExist), ErrKeyNotExist))
	qt.Assert(t, qt.IsNil(m.Update(uint32(1), uint64(43), UpdateExist)))
	qt.Assert(t, qt.IsNil(m.Update(uint32(2), uint64(44), UpdateNoExist)))

	b, err := m.LookupBytes(uint32(2))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(b, 8))
	b, err = m.LookupBytes(uint32(99))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsNil(b))

	var first uint32
	qt.Assert(t, qt.IsNil(m.NextKey(nil, &first)))
	qt.Assert(t, qt.IsTrue(first == 1 || first == 2))
	var second uint32
	qt.Assert(t, qt.IsNil(m.NextKey(first, &second)))
	qt.Assert(t, qt.Equals(first+second, 3))
	qt.Assert(t, qt.ErrorIs(m.NextKey(second, &first), ErrKeyNotExist))
	nk, err := m.NextKeyBytes(second)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsNil(nk))

	qt.Assert(t, qt.IsNil(m.Delete(uint32(1))))
	err = m.Delete(uint32(1))
	qt.Assert(t, qt.ErrorIs(err, ErrKeyNotExist))
	qt.Assert(t, qt.Equals(err.Error(), "map basics: delete: key does not exist"))

	// A full hash map refuses new keys.
	for k := uint32(10); k < 13; k++ {
		qt.Assert(t, qt.IsNil(m.Put(k, uint64(k))))
	}
	err = m.Put(uint32(20), uint64(0))
	qt.Assert(t, qt.ErrorIs(err, unix.E2BIG))
	qt.Assert(t, qt.StringContains(err.Error(), "the map is full"))

	qt.Assert(t, qt.IsNil(m.Close()))
	qt.Assert(t, qt.IsNil(m.Close()))
	qt.Assert(t, qt.Equals(m.FD(), -1))
	qt.Assert(t, qt.ErrorIs(m.Lookup(uint32(1), &v), unix.EBADF))
	qt.Assert(t, qt.IsNil((*Map)(nil).Close()))
}

// mapTypeCase creates a map of one type and exercises what it allows.
type mapTypeCase struct {
	spec *MapSpec
	// ops exercises the map; nil means creating it is all it takes.
	ops func(t *testing.T, m *Map)
}

func mapTypeCases() map[MapType]mapTypeCase {
	intType := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	hashOps := func(t *testing.T, m *Map) { exerciseKeyed(t, m, true) }
	arrayOps := func(t *testing.T, m *Map) { exerciseKeyed(t, m, false) }
	return map[MapType]mapTypeCase{
		Hash:        {&MapSpec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 8}, hashOps},
		LRUHash:     {&MapSpec{Type: LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 8}, hashOps},
		Array:       {&MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 8}, arrayOps},
		PerCPUHash:  {&MapSpec{Type: PerCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 8}, exercisePerCPU},
		LRUCPUHash:  {&MapSpec{Type: LRUCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 8}, exercisePerCPU},
		PerCPUArray: {&MapSpec{Type: PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 8}, exercisePerCPU},
		ProgramArray: {&MapSpec{Type: ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4}, func(t *testing.T, m *Map) {
			prog := mapTestProgram(t, 1)
			qt.Assert(t, qt.IsNil(m.Put(uint32(0), prog)))
			var id uint32
			qt.Assert(t, qt.IsNil(m.Lookup(uint32(0), &id)))
			info, err := prog.Info()
			qt.Assert(t, qt.IsNil(err))
			want, _ := info.ID()
			qt.Assert(t, qt.Equals(ProgramID(id), want))
			var got *Program
			qt.Assert(t, qt.IsNil(m.Lookup(uint32(0), &got)))
			defer got.Close()
			qt.Assert(t, qt.Equals(got.Type(), SocketFilter))
			qt.Assert(t, qt.ErrorMatches(m.Put(uint32(1), m), `.*can't store a map in a ProgramArray`))
			qt.Assert(t, qt.IsNil(m.Delete(uint32(0))))
			qt.Assert(t, qt.ErrorIs(m.Lookup(uint32(0), &id), ErrKeyNotExist))
		}},
		PerfEventArray: {&MapSpec{Type: PerfEventArray}, func(t *testing.T, m *Map) {
			// One entry per possible CPU, 4-byte keys and values.
			qt.Assert(t, qt.Equals(int(m.MaxEntries()), MustPossibleCPU()))
			qt.Assert(t, qt.Equals(m.KeySize(), 4))
			attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_BPF_OUTPUT, Sample_type: unix.PERF_SAMPLE_RAW}
			attr.Size = uint32(unsafe.Sizeof(attr))
			fd, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
			qt.Assert(t, qt.IsNil(err))
			defer unix.Close(fd)
			qt.Assert(t, qt.IsNil(m.Put(uint32(0), uint32(fd))))
			qt.Assert(t, qt.IsNil(m.Delete(uint32(0))))
		}},
		StackTrace: {&MapSpec{Type: StackTrace, KeySize: 4, ValueSize: 8 * 8, MaxEntries: 8}, func(t *testing.T, m *Map) {
			var v [8]uint64
			qt.Assert(t, qt.ErrorIs(m.Lookup(uint32(0), &v), ErrKeyNotExist))
		}},
		CGroupArray: {&MapSpec{Type: CGroupArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}, func(t *testing.T, m *Map) {
			f := mapTestCgroup2(t)
			qt.Assert(t, qt.IsNil(m.Put(uint32(0), uint32(f.Fd()))))
			qt.Assert(t, qt.IsNil(m.Delete(uint32(0))))
		}},
		LPMTrie: {&MapSpec{Type: LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 8, Flags: sys.BPF_F_NO_PREALLOC}, func(t *testing.T, m *Map) {
			type key struct {
				Prefix uint32
				Addr   [4]byte
			}
			qt.Assert(t, qt.IsNil(m.Put(key{8, [4]byte{10}}, uint32(8))))
			qt.Assert(t, qt.IsNil(m.Put(key{24, [4]byte{10, 1, 2}}, uint32(24))))
			var v uint32
			qt.Assert(t, qt.IsNil(m.Lookup(key{32, [4]byte{10, 1, 2, 3}}, &v)))
			qt.Assert(t, qt.Equals(v, 24))
			qt.Assert(t, qt.IsNil(m.Lookup(key{32, [4]byte{10, 9, 9, 9}}, &v)))
			qt.Assert(t, qt.Equals(v, 8))
			qt.Assert(t, qt.ErrorIs(m.Lookup(key{32, [4]byte{11}}, &v), ErrKeyNotExist))
			// No batch lookups: Iterate walks the keys.
			n := 0
			var k key
			it := m.Iterate()
			for it.Next(&k, &v) {
				n++
				qt.Assert(t, qt.Equals(k.Prefix, v))
			}
			qt.Assert(t, qt.IsNil(it.Err()))
			qt.Assert(t, qt.Equals(n, 2))
		}},
		ArrayOfMaps: {&MapSpec{Type: ArrayOfMaps, KeySize: 4, MaxEntries: 2, InnerMap: &MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}}, exerciseMapInMap},
		HashOfMaps:  {&MapSpec{Type: HashOfMaps, KeySize: 4, MaxEntries: 2, InnerMap: &MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}}, exerciseMapInMap},
		DevMap: {&MapSpec{Type: DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 2}, func(t *testing.T, m *Map) {
			qt.Assert(t, qt.IsNil(m.Put(uint32(0), uint32(1)))) // lo
			var ifindex uint32
			qt.Assert(t, qt.IsNil(m.Lookup(uint32(0), &ifindex)))
			qt.Assert(t, qt.Equals(ifindex, 1))
		}},
		DevMapHash: {&MapSpec{Type: DevMapHash, KeySize: 4, ValueSize: 4, MaxEntries: 2}, func(t *testing.T, m *Map) {
			qt.Assert(t, qt.IsNil(m.Put(uint32(7), uint32(1))))
			qt.Assert(t, qt.IsNil(m.Delete(uint32(7))))
		}},
		SockMap: {&MapSpec{Type: SockMap, KeySize: 4, ValueSize: 4, MaxEntries: 2}, func(t *testing.T, m *Map) {
			fd := udpSocket(t, false)
			qt.Assert(t, qt.IsNil(m.Put(uint32(0), uint32(fd))))
			qt.Assert(t, qt.IsNil(m.Delete(uint32(0))))
		}},
		SockHash: {&MapSpec{Type: SockHash, KeySize: 4, ValueSize: 4, MaxEntries: 2}, func(t *testing.T, m *Map) {
			fd := udpSocket(t, false)
			qt.Assert(t, qt.IsNil(m.Put(uint32(5), uint32(fd))))
			qt.Assert(t, qt.IsNil(m.Delete(uint32(5))))
		}},
		CPUMap: {&MapSpec{Type: CPUMap, KeySize: 4, ValueSize: 4}, func(t *testing.T, m *Map) {
			qt.Assert(t, qt.Equals(int(m.MaxEntries()), MustPossibleCPU()))
			qt.Assert(t, qt.IsNil(m.Put(uint32(0), uint32(192)))) // queue size
			var qsize uint32
			qt.Assert(t, qt.IsNil(m.Lookup(uint32(0), &qsize)))
			qt.Assert(t, qt.Equals(qsize, 192))
		}},
		XSKMap: {&MapSpec{Type: XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: 2}, func(t *testing.T, m *Map) {
			// Entries need an AF_XDP socket bound to a device queue;
			// clearing an empty slot is allowed.
			qt.Assert(t, qt.IsNil(m.Delete(uint32(0))))
		}},
		CGroupStorage:       {&MapSpec{Type: CGroupStorage, KeySize: 16, ValueSize: 8}, nil},
		PerCPUCGroupStorage: {&MapSpec{Type: PerCPUCGroupStorage, KeySize: 16, ValueSize: 8}, nil},
		ReusePortSockArray: {&MapSpec{Type: ReusePortSockArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}, func(t *testing.T, m *Map) {
			fd := udpSocket(t, true)
			qt.Assert(t, qt.IsNil(m.Put(uint32(0), uint32(fd))))
			qt.Assert(t, qt.IsNil(m.Delete(uint32(0))))
		}},
		Queue: {&MapSpec{Type: Queue, ValueSize: 4, MaxEntries: 4}, func(t *testing.T, m *Map) { exercisePushPop(t, m, []uint32{1, 2, 3}) }},
		Stack: {&MapSpec{Type: Stack, ValueSize: 4, MaxEntries: 4}, func(t *testing.T, m *Map) { exercisePushPop(t, m, []uint32{3, 2, 1}) }},
		SkStorage: {&MapSpec{Type: SkStorage, KeySize: 4, ValueSize: 4, Flags: sys.BPF_F_NO_PREALLOC, Key: intType, Value: intType}, func(t *testing.T, m *Map) {
			// Keys are socket descriptors.
			fd := udpSocket(t, false)
			qt.Assert(t, qt.IsNil(m.Put(uint32(fd), uint32(77))))
			var v uint32
			qt.Assert(t, qt.IsNil(m.Lookup(uint32(fd), &v)))
			qt.Assert(t, qt.Equals(v, 77))
			qt.Assert(t, qt.IsNil(m.Delete(uint32(fd))))
		}},
		InodeStorage: {&MapSpec{Type: InodeStorage, KeySize: 4, ValueSize: 4, Flags: sys.BPF_F_NO_PREALLOC, Key: intType, Value: intType}, nil},
		TaskStorage: {&MapSpec{Type: TaskStorage, KeySize: 4, ValueSize: 4, Flags: sys.BPF_F_NO_PREALLOC, Key: intType, Value: intType}, func(t *testing.T, m *Map) {
			// Keys are pidfds.
			pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
			qt.Assert(t, qt.IsNil(err))
			defer unix.Close(pidfd)
			qt.Assert(t, qt.IsNil(m.Put(uint32(pidfd), uint32(5))))
			var v uint32
			qt.Assert(t, qt.IsNil(m.Lookup(uint32(pidfd), &v)))
			qt.Assert(t, qt.Equals(v, 5))
		}},
		CgroupStorage: {&MapSpec{Type: CgroupStorage, KeySize: 4, ValueSize: 4, Flags: sys.BPF_F_NO_PREALLOC, Key: intType, Value: intType}, func(t *testing.T, m *Map) {
			f := mapTestCgroup2(t)
			qt.Assert(t, qt.IsNil(m.Put(uint32(f.Fd()), uint32(9))))
			var v uint32
			qt.Assert(t, qt.IsNil(m.Lookup(uint32(f.Fd()), &v)))
			qt.Assert(t, qt.Equals(v, 9))
		}},
		StructOpsMap: {&MapSpec{Type: StructOpsMap, Value: &btf.Struct{Name: "tcp_congestion_ops", Size: 8}}, func(t *testing.T, m *Map) {
			// The value is the kernel's wrapper, bpf_struct_ops_tcp_congestion_ops.
			qt.Assert(t, qt.Equals(m.KeySize(), 4))
			qt.Assert(t, qt.Equals(m.MaxEntries(), 1))
			qt.Assert(t, qt.IsTrue(m.ValueSize() > 8))
			info, err := m.Info()
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(info.ValueSize, m.ValueSize()))
		}},
		RingBuf:     {&MapSpec{Type: RingBuf, MaxEntries: uint32(os.Getpagesize())}, nil},
		UserRingbuf: {&MapSpec{Type: UserRingbuf, MaxEntries: uint32(os.Getpagesize())}, nil},
		BloomFilter: {&MapSpec{Type: BloomFilter, ValueSize: 4, MaxEntries: 16, MapExtra: 3}, func(t *testing.T, m *Map) {
			qt.Assert(t, qt.IsNil(m.Put(nil, uint32(42))))
			v := uint32(42)
			qt.Assert(t, qt.IsNil(m.Lookup(nil, &v)))
			v = 43
			qt.Assert(t, qt.ErrorIs(m.Lookup(nil, &v), ErrKeyNotExist))
			info, err := m.Info()
			qt.Assert(t, qt.IsNil(err))
			extra, ok := info.MapExtra()
			qt.Assert(t, qt.IsTrue(ok))
			qt.Assert(t, qt.Equals(extra, 3))
		}},
		Arena: {&MapSpec{Type: Arena, MaxEntries: 2, Flags: sys.BPF_F_MMAPABLE}, func(t *testing.T, m *Map) {
			mem, err := m.Memory()
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(int(mem.Size()), 2*os.Getpagesize()))
			_, err = mem.WriteAt([]byte{1, 2, 3}, 10)
			qt.Assert(t, qt.IsNil(err))
			got := make([]byte, 3)
			_, err = mem.ReadAt(got, 10)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.DeepEquals(got, []byte{1, 2, 3}))
		}},
	}
}

// TestMapTypes creates a map of every type of the UAPI that the running
// kernel has and exercises the operations the type allows.
func TestMapTypes(t *testing.T) {
	testutils.RequireRoot(t)
	cases := mapTypeCases()
	for mt := UnspecifiedMap + 1; mt <= Arena; mt++ {
		t.Run(mt.String(), func(t *testing.T) {
			tc, ok := cases[mt]
			if !ok {
				t.Fatalf("no test case for %s", mt)
			}
			testutils.SkipIfNotSupported(t, haveMapType(mt))
			testutils.SkipIfForbidden(t, haveMapType(mt), mt.String()+" maps")
			m := newTestMap(t, tc.spec)
			qt.Assert(t, qt.Equals(m.Type(), mt))
			info, err := m.Info()
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(info.Type, mt))
			if tc.ops != nil {
				tc.ops(t, m)
			}
		})
	}
}

// exerciseKeyed tests a hash-like or array map with uint32 keys and
// values.
func exerciseKeyed(t *testing.T, m *Map, deletable bool) {
	for k := uint32(0); k < 4; k++ {
		qt.Assert(t, qt.IsNil(m.Put(k, k*10)))
	}
	var v uint32
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(3), &v)))
	qt.Assert(t, qt.Equals(v, 30))

	got := map[uint32]uint32{}
	var k uint32
	it := m.Iterate()
	for it.Next(&k, &v) {
		got[k] = v
	}
	qt.Assert(t, qt.IsNil(it.Err()))
	if deletable {
		qt.Assert(t, qt.DeepEquals(got, map[uint32]uint32{0: 0, 1: 10, 2: 20, 3: 30}))
		qt.Assert(t, qt.IsNil(m.Delete(uint32(3))))
		qt.Assert(t, qt.ErrorIs(m.Lookup(uint32(3), &v), ErrKeyNotExist))
		err := m.LookupAndDelete(uint32(2), &v)
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, ErrNotSupported) { // 5.14 for hash maps
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(v, 20))
			qt.Assert(t, qt.ErrorIs(m.Lookup(uint32(2), &v), ErrKeyNotExist))
		}
	} else {
		qt.Assert(t, qt.HasLen(got, int(m.MaxEntries())))
		qt.Assert(t, qt.Equals(got[3], 30))
		qt.Assert(t, qt.ErrorIs(m.Delete(uint32(0)), unix.EINVAL))
		qt.Assert(t, qt.ErrorIs(m.Lookup(m.MaxEntries(), &v), ErrKeyNotExist))
	}
}

func exerciseMapInMap(t *testing.T, m *Map) {
	inner, err := NewMap(innerSpecForTest())
	qt.Assert(t, qt.IsNil(err))
	defer inner.Close()
	qt.Assert(t, qt.IsNil(inner.Put(uint32(0), uint32(1234))))
	qt.Assert(t, qt.IsNil(m.Put(uint32(1), inner)))

	var id uint32
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(1), &id)))
	info, err := inner.Info()
	qt.Assert(t, qt.IsNil(err))
	want, _ := info.ID()
	qt.Assert(t, qt.Equals(MapID(id), want))

	var got *Map
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(1), &got)))
	defer got.Close()
	var v uint32
	qt.Assert(t, qt.IsNil(got.Lookup(uint32(0), &v)))
	qt.Assert(t, qt.Equals(v, 1234))

	// Iterating returns the inner maps too.
	var k uint32
	var it *Map
	iter := m.Iterate()
	n := 0
	for iter.Next(&k, &it) {
		n++
		qt.Assert(t, qt.Equals(k, 1))
	}
	it.Close()
	qt.Assert(t, qt.IsNil(iter.Err()))
	qt.Assert(t, qt.Equals(n, 1))

	qt.Assert(t, qt.ErrorMatches(m.Put(uint32(0), mapTestProgram(t, 0)), `.*can't store a program in a .*OfMaps`))
	qt.Assert(t, qt.ErrorMatches(m.Put(uint32(0), (*Map)(nil)), `.*nil \*ebpf.Map`))
	closed, err := NewMap(innerSpecForTest())
	qt.Assert(t, qt.IsNil(err))
	closed.Close()
	qt.Assert(t, qt.ErrorMatches(m.Put(uint32(0), closed), `.*\*ebpf.Map is closed`))
	qt.Assert(t, qt.IsNil(m.Delete(uint32(1))))
}

func innerSpecForTest() *MapSpec {
	return &MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}
}

func exercisePushPop(t *testing.T, m *Map, wantOrder []uint32) {
	for _, v := range []uint32{1, 2, 3} {
		qt.Assert(t, qt.IsNil(m.Put(nil, v)))
	}
	var peek uint32
	qt.Assert(t, qt.IsNil(m.Lookup(nil, &peek)))
	qt.Assert(t, qt.Equals(peek, wantOrder[0]))
	for _, want := range wantOrder {
		var v uint32
		qt.Assert(t, qt.IsNil(m.LookupAndDelete(nil, &v)))
		qt.Assert(t, qt.Equals(v, want))
	}
	var v uint32
	qt.Assert(t, qt.ErrorIs(m.LookupAndDelete(nil, &v), ErrKeyNotExist))
	qt.Assert(t, qt.ErrorMatches(m.Put(uint32(1), uint32(1)), `.*has no keys: pass nil`))
}

// mapTestCgroup2 opens the root of the cgroup2 hierarchy, skipping the
// test if there is none.
func mapTestCgroup2(t *testing.T) *os.File {
	data, err := os.ReadFile("/proc/self/mountinfo")
	qt.Assert(t, qt.IsNil(err))
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		for i := range f {
			if f[i] == "-" && i+1 < len(f) && f[i+1] == "cgroup2" {
				dir, err := os.Open(f[4])
				qt.Assert(t, qt.IsNil(err))
				t.Cleanup(func() { dir.Close() })
				return dir
			}
		}
	}
	t.Skip("no cgroup2 mount")
	return nil
}

// udpSocket returns a bound UDP socket, closed when the test ends.
func udpSocket(t *testing.T, reuseport bool) int {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { unix.Close(fd) })
	if reuseport {
		qt.Assert(t, qt.IsNil(unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)))
	}
	qt.Assert(t, qt.IsNil(unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})))
	return fd
}

func TestMapCreateErrors(t *testing.T) {
	testutils.RequireRoot(t)
	tests := []struct {
		name string
		spec *MapSpec
		want string
	}{
		{"unspecified", &MapSpec{Name: "x", KeySize: 4, ValueSize: 4, MaxEntries: 1}, `map "x": map type is unspecified`},
		{"zero max entries", &MapSpec{Name: "x", Type: Hash, KeySize: 4, ValueSize: 4}, `map "x": create: invalid argument \(MaxEntries is zero\)`},
		{"missing no prealloc", &MapSpec{Type: LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 1}, `.*LPMTrie maps need BPF_F_NO_PREALLOC\)`},
		{"ring size", &MapSpec{Type: RingBuf, MaxEntries: 4097}, `.*must be a power of two multiple of the page size, not 4097\)`},
		{"no inner map", &MapSpec{Type: ArrayOfMaps, KeySize: 4, MaxEntries: 1}, `.*ArrayOfMaps needs an InnerMap spec`},
		{"pinned inner map", &MapSpec{Type: ArrayOfMaps, KeySize: 4, MaxEntries: 1, InnerMap: &MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1, Pinning: PinByName}}, `.*inner maps can't be pinned`},
		{"map in map value size", &MapSpec{Type: HashOfMaps, KeySize: 4, ValueSize: 8, MaxEntries: 1, InnerMap: innerSpecForTest()}, `.*HashOfMaps: ValueSize must be 0 or 4, not 8`},
		{"perf event array key", &MapSpec{Type: PerfEventArray, KeySize: 8}, `.*PerfEventArray: KeySize must be 0 or 4, not 8`},
		{"extra bytes", &MapSpec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Extra: bytes.NewReader([]byte{0, 1})}, `.*extra bytes of the map definition: non-zero bytes.*`},
		{"pin without path", &MapSpec{Name: "p", Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Pinning: PinByName}, `.*MapOptions.PinPath is empty`},
		{"pin without name", &MapSpec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Pinning: PinByName}, `.*the spec has no Name`},
		{"pin type", &MapSpec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Pinning: 7}, `.*pin type PinType\(7\): not supported`},
		{"contents", &MapSpec{Name: "c", Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1, Contents: []MapKV{{uint32(0), uint64(1)}}}, `map "c": contents: entry 0 \(key 0\): map c: update: value: uint64 is 8 bytes, want 4`},
		{"struct_ops without type", &MapSpec{Type: StructOpsMap, KeySize: 4, ValueSize: 4, MaxEntries: 1}, `.*StructOpsMap: the Value type must be the named struct the map implements`},
		{"struct_ops unknown", &MapSpec{Type: StructOpsMap, Value: &btf.Struct{Name: "no_such_ops"}}, `map \(unnamed\): StructOpsMap: the kernel has no struct_ops type no_such_ops \(bpf_struct_ops_no_such_ops is not in its BTF; types of kernel modules are not supported\): not supported`},
		{"nil", nil, `map \(unnamed\): nil MapSpec`},
		// The kernel has the flag, just not for hashes: no feature to blame.
		{"flag of arrays", &MapSpec{Name: "f", Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: sys.BPF_F_MMAPABLE}, `map "f": create: invalid argument`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMap(tt.spec)
			qt.Assert(t, qt.ErrorMatches(err, tt.want))
		})
	}

	// Zero extra bytes are fine, and the spec's reader isn't consumed.
	spec := &MapSpec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Extra: bytes.NewReader([]byte{0, 0})}
	newTestMap(t, spec)
	qt.Assert(t, qt.Equals(spec.Extra.Len(), 2))
}

// TestMissingMapFlag: the kernel has every flag of the shared probe table
// (the newest, BPF_F_INNER_MAP, is from 5.10); flags without a probe are
// passed over.
func TestMissingMapFlag(t *testing.T) {
	testutils.RequireRoot(t)
	qt.Assert(t, qt.IsNil(missingMapFlag(0)))
	all := uint32(sys.BPF_F_NO_PREALLOC | sys.BPF_F_RDONLY_PROG | sys.BPF_F_WRONLY_PROG | sys.BPF_F_MMAPABLE | sys.BPF_F_INNER_MAP)
	qt.Assert(t, qt.IsNil(missingMapFlag(all|1<<30)))
	qt.Assert(t, qt.IsNil(haveMapMutabilityModifiers()))
	qt.Assert(t, qt.IsNil(haveMmapableMaps()))
}

func TestMapObjName(t *testing.T) {
	testutils.RequireRoot(t)
	for _, name := range []string{".rodata", "a_very_long_map_name_indeed", "with-dash"} {
		m := newTestMap(t, &MapSpec{Name: name, Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
		info, err := m.Info()
		qt.Assert(t, qt.IsNil(err))
		want := sys.NewObjName(name).String()
		if objNameAllowsDot() != nil {
			want = sys.NewObjName(strings.ReplaceAll(name, ".", "")).String()
		}
		qt.Assert(t, qt.Equals(info.Name, want), qt.Commentf("%s", name))
	}
}

func TestMapCompatible(t *testing.T) {
	m := newTestMap(t, &MapSpec{Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16, Flags: sys.BPF_F_NO_PREALLOC})
	base := MapSpec{Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16, Flags: sys.BPF_F_NO_PREALLOC}
	qt.Assert(t, qt.IsNil(base.Compatible(m)))

	spec := base
	spec.Type, spec.KeySize, spec.ValueSize, spec.MaxEntries, spec.Flags = LRUHash, 8, 4, 32, 0
	err := spec.Compatible(m)
	qt.Assert(t, qt.ErrorIs(err, ErrMapIncompatible))
	qt.Assert(t, qt.ErrorMatches(err, fmt.Sprintf(`Hash#fd %d: type is Hash, want LRUHash, key size is 4, want 8, value size is 8, want 4, max entries is 16, want 32, flags are 0x1, want 0x0: map spec is incompatible with existing map`, m.FD())))

	qt.Assert(t, qt.ErrorIs(base.Compatible(nil), ErrMapIncompatible))

	// Fixups apply: an ELF's perf event array has no sizes.
	pe := newTestMap(t, &MapSpec{Type: PerfEventArray})
	qt.Assert(t, qt.IsNil((&MapSpec{Type: PerfEventArray}).Compatible(pe)))
	qt.Assert(t, qt.IsNil((&MapSpec{Type: PerfEventArray, MaxEntries: 4096}).Compatible(pe)))
}
