package ebpf

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
)

// Writable mappings of arrays (the data sections behind Variables) are
// placed inside memory the Go garbage collector tracks, so that
// VariablePointer can hand out plain Go pointers into a map:
//
//   - a []byte of the mapping's size plus a page is allocated on the heap
//     (it contains no pointers, so the collector never reads it), and the
//     map is mapped over the page-aligned part of it with MAP_FIXED;
//   - every pointer into the mapping is a pointer into that allocation,
//     which the collector keeps alive, and with it the mapping (which
//     holds the map) — the Memory is just one such holder;
//   - a finalizer on the allocation (not a cleanup: a finalizer runs
//     before the memory can be reused, a cleanup may run after) maps
//     anonymous memory back over the range, so that the allocator gets
//     ordinary memory when it frees the object.
//
// This relies on two properties of Go's collector: an interior pointer
// keeps the whole object alive, and heap objects don't move. The first is
// what Go's pointers mean; the second is not promised by the spec, but
// every buffer handed to a system call relies on it too (a moving
// collector would need the allocation pinned with runtime.Pinner, whose
// pins can't outlive an unreachable Pinner). The finalizer's guarantee —
// the object is not freed before its finalizer has run — is documented
// by runtime.SetFinalizer. If the kernel can't map the map, or put
// anonymous memory back, the allocation is leaked on purpose: a range with
// a hole in it, or shared with a map, must never be given to other Go
// values.

// mmapFixed is mmap(2) with MAP_FIXED at addr, which lies in a Go heap
// allocation the caller keeps alive. (unix.MmapPtr turns the result into an
// unsafe.Pointer, which checkptr refuses for a heap address made from an
// integer.)
func mmapFixed(addr unsafe.Pointer, length uintptr, prot, flags, fd int) error {
	r, _, errno := unix.Syscall6(sysMmap, uintptr(addr), length, uintptr(prot), uintptr(flags|unix.MAP_FIXED), uintptr(fd), 0)
	if errno != 0 {
		return errno
	}
	if r != uintptr(addr) {
		// MAP_FIXED maps at addr or fails.
		return unix.EINVAL
	}
	return nil
}

// memoryHooks are the steps of heap mappings that tests replace; the
// finalizer goroutine reads them, hence the atomic pointer.
type memoryHooks struct {
	// mmapFixed maps length bytes of fd at addr.
	mmapFixed func(fd int, addr unsafe.Pointer, length uintptr, prot int) error
	// restore maps anonymous memory back over length bytes at addr.
	restore func(addr unsafe.Pointer, length uintptr) error
	// released, if set, is called with the address of a heap mapping
	// once the finalizer has put anonymous memory back.
	released func(addr uintptr)
}

var defaultMemoryHooks = memoryHooks{
	mmapFixed: func(fd int, addr unsafe.Pointer, length uintptr, prot int) error {
		return mmapFixed(addr, length, prot, unix.MAP_SHARED, fd)
	},
	restore: func(addr unsafe.Pointer, length uintptr) error {
		return mmapFixed(addr, length, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, -1)
	},
}

var currentMemoryHooks atomic.Pointer[memoryHooks]

func init() { currentMemoryHooks.Store(&defaultMemoryHooks) }

// leakedMemory keeps the allocations that can't be freed safely.
var leakedMemory struct {
	sync.Mutex
	objs []*byte
}

func leakMemory(p *byte) {
	leakedMemory.Lock()
	leakedMemory.objs = append(leakedMemory.objs, p)
	leakedMemory.Unlock()
}

// pageOffset returns how far p is from the next page boundary.
func pageOffset(p *byte) uintptr {
	page := uintptr(os.Getpagesize())
	return (page - uintptr(unsafe.Pointer(p))%page) % page
}

// mapOverHeap maps size bytes (a multiple of the page size) of the map fd,
// shared, with prot, over a new Go heap allocation, and returns the mapped
// bytes. One mmap(2); the allocation is a page larger than size.
func mapOverHeap(fd *sys.FD, size int, prot int) ([]byte, error) {
	backing := make([]byte, size+os.Getpagesize())
	base := unsafe.SliceData(backing)
	addr := unsafe.Add(unsafe.Pointer(base), pageOffset(base))
	hooks := currentMemoryHooks.Load()
	err := hooks.mmapFixed(fd.Int(), addr, uintptr(size), prot)
	runtime.KeepAlive(fd)
	if err != nil {
		// A failed MAP_FIXED may already have unmapped the range.
		if hooks.restore(addr, uintptr(size)) != nil {
			leakMemory(base)
		}
		runtime.KeepAlive(backing)
		return nil, err
	}
	runtime.SetFinalizer(base, func(base *byte) {
		// Only the argument: a captured pointer would keep the
		// allocation alive forever.
		addr := unsafe.Add(unsafe.Pointer(base), pageOffset(base))
		hooks := currentMemoryHooks.Load()
		err := hooks.restore(addr, uintptr(size))
		runtime.KeepAlive(base)
		if err != nil {
			leakMemory(base)
			return
		}
		if hooks.released != nil {
			hooks.released(uintptr(addr))
		}
	})
	return unsafe.Slice((*byte)(addr), size), nil
}
