package ebpf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
)

// Memory is the memory of a map created with BPF_F_MMAPABLE (arrays, Linux
// 5.5; arenas, 6.9), mapped into the process: reads and writes go straight
// to the map, without syscalls, and programs see them at once.
//
// The mapping lives as long as the Memory, and for writable arrays as long
// as any pointer into it (see VariablePointer): it is unmapped once they
// are unreachable, not when the Map is closed. Writable mappings of arrays
// lie inside a Go heap allocation a page larger than the mapping
// (memory_heap.go); others are plain mappings. Every
// access is bounds-checked against Size. Access is not synchronised: Go's
// copy moves aligned words at a time, so single naturally aligned values
// are read and written whole, but anything larger needs the usual care
// (or atomics) when programs write concurrently. Keep the C structs
// naturally aligned (no __attribute__((packed))): packed fields may be
// read half-written.
//
// Variables of a loaded collection use a Memory to read and write globals
// in place.
type Memory struct {
	b  []byte
	ro bool
	// heap is true for a mapping inside a Go heap allocation, which
	// pointers into b keep alive.
	heap    bool
	cleanup runtime.Cleanup
}

// Memory returns the map's memory, mapping it on the first call (one
// mmap(2)); later calls return the same Memory. The mapping is read-only
// if the map is frozen or was created with BPF_F_RDONLY_PROG, since the
// kernel refuses to let user space write what programs rely on being
// constant. Maps without BPF_F_MMAPABLE give an error wrapping
// ErrNotSupported.
func (m *Map) Memory() (*Memory, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.memory != nil {
		return m.memory, nil
	}
	if m.flags&sys.BPF_F_MMAPABLE == 0 {
		return nil, fmt.Errorf("memory of %s: the map wasn't created with BPF_F_MMAPABLE: %w", m, ErrNotSupported)
	}
	size, err := m.memorySize()
	if err != nil {
		return nil, err
	}
	mm, err := newMemory(m.fd, size, m.typ == Array)
	if err != nil {
		return nil, fmt.Errorf("memory of %s: %w", m, err)
	}
	m.memory = mm
	return mm, nil
}

// memorySize is the length of the mapping of an mmapable map.
func (m *Map) memorySize() (int, error) {
	page := os.Getpagesize()
	switch m.typ {
	case Array:
		// Array elements are 8-byte aligned on every architecture; the
		// mapping covers whole pages.
		size := perCPUStride(int(m.valueSize)) * int(m.maxEntries)
		return (size + page - 1) / page * page, nil
	case Arena:
		// An arena's MaxEntries counts pages.
		return int(m.maxEntries) * page, nil
	}
	return 0, fmt.Errorf("memory of %s: %s maps can't be mapped: %w", m, m.typ, ErrNotSupported)
}

// newMemory maps size bytes of the map fd. A writable mapping is moved into
// the Go heap if heap is set (arrays: arenas must stay where the kernel
// puts them).
func newMemory(fd *sys.FD, size int, heap bool) (*Memory, error) {
	b, err := unix.Mmap(fd.Int(), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	// A frozen map refuses a writable mapping with EPERM, one created with
	// BPF_F_RDONLY_PROG with EACCES.
	ro := false
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		ro = true
		b, err = unix.Mmap(fd.Int(), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	}
	runtime.KeepAlive(fd)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	if heap && !ro {
		// The plain mapping told the protection the kernel allows; now
		// that a MAP_FIXED mapping can't fail for it, move into the heap.
		hb, err := mapOverHeap(fd, size, unix.PROT_READ|unix.PROT_WRITE)
		unmapMemory(b)
		if err != nil {
			return nil, fmt.Errorf("mmap into the Go heap: %w", err)
		}
		return &Memory{b: hb, heap: true}, nil
	}
	mm := &Memory{b: b, ro: ro}
	mm.cleanup = runtime.AddCleanup(mm, unmapMemory, b)
	return mm, nil
}

func unmapMemory(b []byte) {
	// Nothing sensible can be done about a failing munmap in a cleanup.
	_ = unix.Munmap(b)
}

// Size returns the length of the mapping in bytes, a multiple of the page
// size.
func (mm *Memory) Size() uint32 { return uint32(len(mm.b)) }

// ReadOnly reports whether the mapping can't be written (frozen maps and
// maps with BPF_F_RDONLY_PROG).
func (mm *Memory) ReadOnly() bool { return mm.ro }

// ReadAt copies the memory at off into p, implementing io.ReaderAt: fewer
// than len(p) bytes come with io.EOF. An offset outside the mapping is an
// error.
func (mm *Memory) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(mm.b)) {
		return 0, fmt.Errorf("read at offset %d of %d bytes of memory: out of range", off, len(mm.b))
	}
	n := copy(p, mm.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt copies p into the memory at off, implementing io.WriterAt: fewer
// than len(p) bytes written come with io.EOF. Writing a read-only mapping
// gives an error wrapping ErrReadOnly.
func (mm *Memory) WriteAt(p []byte, off int64) (int, error) {
	if mm.ro {
		return 0, fmt.Errorf("write to memory: %w", ErrReadOnly)
	}
	if off < 0 || off > int64(len(mm.b)) {
		return 0, fmt.Errorf("write at offset %d of %d bytes of memory: out of range", off, len(mm.b))
	}
	n := copy(mm.b[off:], p)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// slice returns size bytes of the mapping at off, for Variable, which reads
// and writes globals through it. The caller must keep mm reachable while it
// uses the slice: the mapping goes away with mm.
func (mm *Memory) slice(off, size uint32) ([]byte, error) {
	end := uint64(off) + uint64(size)
	if end > uint64(len(mm.b)) {
		return nil, fmt.Errorf("%d bytes at offset %d are outside %d bytes of memory", size, off, len(mm.b))
	}
	return mm.b[off:end:end], nil
}
