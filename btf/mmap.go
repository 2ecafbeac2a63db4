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
// (identified by device, inode and size) for the whole process. Module BTF
// is not mappable (and can disappear when a module unloads), so only
// vmlinux is mapped.

var kernelMappings struct {
	sync.Mutex
	m map[kernelFileKey][]byte
}

type kernelFileKey struct {
	dev, ino uint64
	size     int64
}

// kernelBTFDir is where the kernel exposes its BTF.
const kernelBTFDir = "/sys/kernel/btf"

// mapKernelBTF returns a read-only mapping of file if it is the kernel's
// vmlinux BTF and the kernel allows mapping it. ok is false otherwise; the
// caller then reads the file.
func mapKernelBTF(file string) (data []byte, ok bool) {
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
	key := kernelFileKey{dev: uint64(st.Dev), ino: uint64(st.Ino), size: st.Size}

	kernelMappings.Lock()
	defer kernelMappings.Unlock()
	if data, ok := kernelMappings.m[key]; ok {
		return data, true
	}
	data, err = unix.Mmap(int(f.Fd()), 0, int(st.Size), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		// Kernels before 6.15 refuse: read the file instead.
		return nil, false
	}
	if kernelMappings.m == nil {
		kernelMappings.m = make(map[kernelFileKey][]byte)
	}
	kernelMappings.m[key] = data
	return data, true
}
