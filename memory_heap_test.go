package ebpf

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// mappedFile returns what /proc/self/maps says is mapped at addr: the
// path column ("anon_inode:bpf-map", "" for anonymous memory), or "-" if
// nothing is.
func mappedFile(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	qt.Assert(t, qt.IsNil(err))
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		var lo, hi uintptr
		if _, err := fmt.Sscanf(fields[0], "%x-%x", &lo, &hi); err != nil {
			t.Fatalf("parse %q: %v", s.Text(), err)
		}
		if addr >= lo && addr < hi {
			if len(fields) < 6 {
				return ""
			}
			return fields[5]
		}
	}
	qt.Assert(t, qt.IsNil(s.Err()))
	return "-"
}

// mmapableArray creates an mmapable array of n 8-byte values.
func mmapableArray(t *testing.T, n uint32) *Map {
	t.Helper()
	m := newTestMap(t, &MapSpec{Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: n, Flags: sys.BPF_F_MMAPABLE})
	return m
}

// waitReleased runs the garbage collector until the finalizer of the heap
// mapping at addr has put anonymous memory back.
func waitReleased(t *testing.T, released <-chan uintptr, addr uintptr) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		runtime.GC()
		select {
		case got := <-released:
			if got == addr {
				return
			}
		case <-deadline:
			t.Fatalf("the mapping at %#x was not released", addr)
		case <-time.After(10 * time.Millisecond):
			// The finalizer runs after a collection found the allocation
			// unreachable; collect again.
		}
	}
}

// TestVariablePointerOutlivesCollection drops everything but a pointer
// into a data section and a program using it: the pointer keeps the
// mapping, which stays the map's.
func TestVariablePointerOutlivesCollection(t *testing.T) {
	testutils.RequireRoot(t)
	coll := loadGlobals(t, nil)
	prog, err := coll.Programs["read_globals"].Clone()
	qt.Assert(t, qt.IsNil(err))
	defer prog.Close()
	p, err := VariablePointer[uint32](coll.Variables["data_u32"])
	qt.Assert(t, qt.IsNil(err))
	coll.Close()
	coll = nil
	for range 3 {
		runtime.GC()
	}

	qt.Assert(t, qt.Equals(mappedFile(t, uintptr(unsafe.Pointer(p))), "anon_inode:bpf-map"))
	*p = 200
	ret, _, err := prog.Test(collPacket)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(ret, 7))
	qt.Assert(t, qt.Equals(atomic.LoadUint32(p), 201))
}

// TestHeapMemoryReleased checks that an unreachable heap mapping is
// replaced by anonymous memory before the allocation is freed, and that
// allocations made afterwards don't reach the map.
func TestHeapMemoryReleased(t *testing.T) {
	testutils.RequireRoot(t)
	m := mmapableArray(t, 4)
	size, err := m.memorySize()
	qt.Assert(t, qt.IsNil(err))
	mm, err := newMemory(m.fd, size, true)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(mm.heap))
	_, err = mm.WriteAt([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 0)
	qt.Assert(t, qt.IsNil(err))
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(mm.b)))
	qt.Assert(t, qt.Equals(mappedFile(t, addr), "anon_inode:bpf-map"))

	// The finalizer goroutine runs every finalizer of the process: never
	// block it.
	released := make(chan uintptr, 1)
	hooks := defaultMemoryHooks
	hooks.released = func(got uintptr) {
		if got == addr {
			select {
			case released <- got:
			default:
			}
		}
	}
	setMemoryHooks(t, hooks)
	runtime.KeepAlive(mm)
	mm = nil
	waitReleased(t, released, addr)
	qt.Assert(t, qt.Not(qt.Equals(mappedFile(t, addr), "anon_inode:bpf-map")))

	// Whatever the allocator hands out next is ordinary memory.
	for range 3 {
		runtime.GC()
	}
	var keep [][]byte
	for range 256 {
		b := make([]byte, size+os.Getpagesize())
		for i := range b {
			b[i] = 0xff
		}
		keep = append(keep, b)
	}
	var v uint64
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(0), &v)))
	qt.Assert(t, qt.Equals(v, 0x0807060504030201))
	runtime.KeepAlive(keep)
}

// TestHeapMemoryConcurrent maps, writes through pointers and drops heap
// mappings of one map from several goroutines while others allocate and
// scribble on memory of the same size; run it with -race. The map holds
// exactly what the pointers wrote.
func TestHeapMemoryConcurrent(t *testing.T) {
	testutils.RequireRoot(t)
	const workers, rounds = 4, 50
	m := mmapableArray(t, workers)
	size, err := m.memorySize()
	qt.Assert(t, qt.IsNil(err))

	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for r := range rounds {
				mm, err := newMemory(m.fd, size, true)
				if err != nil {
					errs <- err
					return
				}
				p := (*uint64)(unsafe.Pointer(&mm.b[w*8]))
				atomic.StoreUint64(p, uint64(r))
				mm = nil
				if r%10 == 0 {
					runtime.GC()
				}
				if got := atomic.LoadUint64(p); got != uint64(r) {
					errs <- fmt.Errorf("worker %d round %d: read %d through the pointer", w, r, got)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range rounds {
				b := make([]byte, size+os.Getpagesize())
				for i := range b {
					b[i] = 0xee
				}
				for i := range b {
					if b[i] != 0xee {
						errs <- errors.New("an allocation changed under its owner")
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := range workers {
		var v uint64
		qt.Assert(t, qt.IsNil(m.Lookup(uint32(w), &v)))
		qt.Assert(t, qt.Equals(v, rounds-1))
	}
}

// setMemoryHooks replaces the steps of heap mappings until the test ends.
func setMemoryHooks(t *testing.T, hooks memoryHooks) {
	prev := currentMemoryHooks.Swap(&hooks)
	t.Cleanup(func() { currentMemoryHooks.Store(prev) })
}

// isLeaked reports whether the heap mapping at addr was leaked.
func isLeaked(addr uintptr) bool {
	leakedMemory.Lock()
	defer leakedMemory.Unlock()
	for _, base := range leakedMemory.objs {
		if uintptr(unsafe.Pointer(base))+pageOffset(base) == addr {
			return true
		}
	}
	return false
}

// TestHeapMemoryErrors fails the MAP_FIXED mapping, and the restoring of
// anonymous memory: an allocation that can't be restored is never freed.
func TestHeapMemoryErrors(t *testing.T) {
	testutils.RequireRoot(t)
	m := mmapableArray(t, 1)
	size, err := m.memorySize()
	qt.Assert(t, qt.IsNil(err))

	var restored atomic.Int32
	hooks := defaultMemoryHooks
	hooks.mmapFixed = func(int, unsafe.Pointer, uintptr, int) error { return unix.ENOMEM }
	hooks.restore = func(addr unsafe.Pointer, length uintptr) error {
		restored.Add(1)
		return defaultMemoryHooks.restore(addr, length)
	}
	setMemoryHooks(t, hooks)
	_, err = newMemory(m.fd, size, true)
	qt.Assert(t, qt.ErrorIs(err, unix.ENOMEM))
	qt.Assert(t, qt.ErrorMatches(err, `mmap into the Go heap: .*`))
	qt.Assert(t, qt.IsTrue(restored.Load() >= 1))

	// Nothing can be restored: the allocation is leaked.
	hooks.restore = func(unsafe.Pointer, uintptr) error { return unix.ENOMEM }
	setMemoryHooks(t, hooks)
	before := func() int {
		leakedMemory.Lock()
		defer leakedMemory.Unlock()
		return len(leakedMemory.objs)
	}()
	_, err = newMemory(m.fd, size, true)
	qt.Assert(t, qt.ErrorIs(err, unix.ENOMEM))
	leakedMemory.Lock()
	qt.Assert(t, qt.HasLen(leakedMemory.objs, before+1))
	leakedMemory.Unlock()

	// A finalizer that can't restore leaks the allocation, still mapped.
	hooks.mmapFixed = defaultMemoryHooks.mmapFixed
	setMemoryHooks(t, hooks)
	mm, err := newMemory(m.fd, size, true)
	qt.Assert(t, qt.IsNil(err))
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(mm.b)))
	runtime.KeepAlive(mm)
	mm = nil
	for i := 0; !isLeaked(addr); i++ {
		if i == 1000 {
			t.Fatal("the finalizer didn't run")
		}
		runtime.GC()
		runtime.Gosched()
	}
	qt.Assert(t, qt.Equals(mappedFile(t, addr), "anon_inode:bpf-map"))
}
