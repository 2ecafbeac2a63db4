package rlimit

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
)

var (
	mu       sync.Mutex
	memcg    bool // the kernel accounts BPF memory to the memory cgroup
	detected bool
)

// RemoveMemlock lifts RLIMIT_MEMLOCK to infinity if the running kernel
// charges BPF maps and programs to it, which kernels before 5.11 do. Since
// 5.11 the kernel accounts BPF memory to the memory cgroup instead; then
// RemoveMemlock changes nothing.
//
// Detection happens once: it creates a one-element array map with the limit
// briefly set to zero (one map create syscall; other goroutines creating BPF
// objects at that very moment may see the lowered limit), then restores the
// previous limit. Lifting the limit needs CAP_SYS_RESOURCE; without it the
// error wraps unix.EPERM.
func RemoveMemlock() error {
	mu.Lock()
	defer mu.Unlock()

	if !detected {
		var err error
		memcg, err = detectMemcgAccounting()
		if err != nil {
			return fmt.Errorf("detect memcg accounting for BPF memory: %w", err)
		}
		detected = true
	}
	if memcg {
		return nil
	}

	inf := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, &inf, nil); err != nil {
		return fmt.Errorf("lift RLIMIT_MEMLOCK to infinity: %w", err)
	}
	return nil
}

// detectMemcgAccounting creates a small map while RLIMIT_MEMLOCK is zero: a
// kernel that still charges the rlimit refuses with EPERM.
func detectMemcgAccounting() (bool, error) {
	var old unix.Rlimit
	zero := unix.Rlimit{Cur: 0, Max: 0}
	if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, nil, &old); err != nil {
		return false, fmt.Errorf("get RLIMIT_MEMLOCK: %w", err)
	}
	// Lowering only the soft limit keeps the hard limit, so restoring never
	// needs privileges.
	zero.Max = old.Max
	if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, &zero, nil); err != nil {
		return false, fmt.Errorf("lower RLIMIT_MEMLOCK: %w", err)
	}
	fd, createErr := sys.MapCreate(&sys.MapCreateAttr{
		MapType:    sys.BPF_MAP_TYPE_ARRAY,
		KeySize:    4,
		ValueSize:  4,
		MaxEntries: 1,
	})
	if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, &old, nil); err != nil {
		if fd != nil {
			fd.Close()
		}
		return false, fmt.Errorf("restore RLIMIT_MEMLOCK: %w", err)
	}
	if createErr == nil {
		fd.Close()
		return true, nil
	}
	if errors.Is(createErr, unix.EPERM) {
		// Either the rlimit is charged, or we lack CAP_BPF entirely; in
		// both cases lifting the limit is the only thing we can try.
		return false, nil
	}
	return false, createErr
}
