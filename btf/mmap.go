package btf

import (
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// Kernel BTF is read-only for the life of the running kernel, and Linux
// 6.15 lets user space map /sys/kernel/btf/vmlinux instead of reading it.
// A mapping costs no Go heap, so a parsed kernel Spec keeps only its index
// and the types it decoded on the heap, and type names can alias the
// mapping instead of being copied.
//
// Names aliasing the mapping must stay valid for as long as any type
// holding them lives, which we cannot track, so a mapping is never
// unmapped. To keep that from leaking, mappings are shared: one per file
// (identified by device, inode, size and modification time) for the whole
// process. Module BTF is not mappable (and can disappear when a module
// unloads), so only vmlinux is mapped.
//
// The index over a mapping (rawSpec) is shared the same way: it is a pure
// function of bytes that never change, read-only once built, and already
// shared between the Specs of LoadKernelSpec. So every LoadSpec of the
// mapped file is a new Spec (its own decoded types) over one index, built
// by the first call. Bounded: one index per mapping, and there is one
// mapping per vmlinux file the process opened, normally one.

var kernelMappings struct {
	sync.Mutex
	m map[kernelFileKey]*kernelMapping
}

type kernelFileKey struct {
	dev, ino uint64
	size     int64
	mtime    unix.Timespec
}

// kernelMapping is one mapped vmlinux and its index, built on first use.
type kernelMapping struct {
	data []byte

	once sync.Once
	raw  *rawSpec
	err  error
}

// index returns the index over the mapping, building it on the first
// call. The bytes never change, so neither does the result, error
// included.
func (km *kernelMapping) index() (*rawSpec, error) {
	km.once.Do(func() { km.raw, km.err = newRawSpec(km.data, nil) })
	return km.raw, km.err
}

// kernelBTFDir is where the kernel exposes its BTF.
const kernelBTFDir = "/sys/kernel/btf"

// mapKernelBTF returns a read-only mapping of file if it is the kernel's
// vmlinux BTF and the kernel allows mapping it. ok is false otherwise; the
// caller then reads the file.
func mapKernelBTF(file string) (km *kernelMapping, ok bool) {
	if filepath.Clean(file) != filepath.Join(kernelBTFDir, "vmlinux") {
		return nil, false
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Size <= 0 {
		return nil, false
	}
	// Only the kernel's own file is immutable. A regular file mounted in
	// its place could change or shrink under the mapping.
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil || fs.Type != unix.SYSFS_MAGIC {
		return nil, false
	}
	key := kernelFileKey{dev: uint64(st.Dev), ino: uint64(st.Ino), size: st.Size, mtime: st.Mtim}

	kernelMappings.Lock()
	defer kernelMappings.Unlock()
	if km, ok := kernelMappings.m[key]; ok {
		return km, true
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		// Kernels before 6.15 refuse: read the file instead.
		return nil, false
	}
	if kernelMappings.m == nil {
		kernelMappings.m = make(map[kernelFileKey]*kernelMapping)
	}
	km = &kernelMapping{data: data}
	kernelMappings.m[key] = km
	return km, true
}
