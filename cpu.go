package ebpf

import (
	"fmt"

	"github.com/bpfkit/ebpf/internal/linux"
)

// PossibleCPU returns the number of CPUs the kernel may ever bring online
// (numbered 0 to n-1): the number of values a per-CPU map holds for each
// key, and the capacity NewMap gives perf event arrays. The first call
// reads /sys/devices/system/cpu/possible; the answer is cached.
func PossibleCPU() (int, error) {
	n, err := linux.PossibleCPUs()
	if err != nil {
		return 0, fmt.Errorf("possible CPUs: %w", err)
	}
	return n, nil
}

// MustPossibleCPU is PossibleCPU for callers that can't do without: it
// panics if the number can't be read.
func MustPossibleCPU() int {
	n, err := PossibleCPU()
	if err != nil {
		panic(err)
	}
	return n
}
