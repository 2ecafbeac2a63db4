package linux

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

const (
	possibleCPUsPath = "/sys/devices/system/cpu/possible"
	onlineCPUsPath   = "/sys/devices/system/cpu/online"
)

var possibleCPUs = sync.OnceValues(func() (int, error) { return readCPUList(possibleCPUsPath) })

// PossibleCPUs returns the number of CPUs the kernel may ever bring online
// (cpu_possible_mask), which is the number of values a per-CPU map holds
// per key. It reads /sys/devices/system/cpu/possible once and caches the
// answer, since the possible mask is fixed at boot.
func PossibleCPUs() (int, error) {
	return possibleCPUs()
}

// OnlineCPUs returns the number of CPUs online now. It reads
// /sys/devices/system/cpu/online on every call, since CPUs come and go.
func OnlineCPUs() (int, error) {
	return readCPUList(onlineCPUsPath)
}

func readCPUList(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("cpu list: %w", err)
	}
	n, err := ParseCPUList(string(data))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// maxCPU bounds CPU numbers: the kernel's NR_CPUS is at most 8192 today.
const maxCPU = 1 << 20

// ParseCPUList counts the CPUs in a kernel CPU list such as "0-3", "0",
// "0-1,3" or "0,2-5,7\n" (the format of cpulist files in sysfs, made by
// the kernel's %*pbl). Ranges must be ascending and must not overlap; the
// count is computed without allocating per CPU.
func ParseCPUList(s string) (int, error) {
	list := strings.TrimSpace(s)
	if list == "" {
		return 0, fmt.Errorf("cpu list %q: empty", s)
	}
	count, next := 0, 0
	for item := range strings.SplitSeq(list, ",") {
		first, last, isRange := strings.Cut(item, "-")
		lo, err := parseCPU(first)
		if err != nil {
			return 0, fmt.Errorf("cpu list %q: %w", s, err)
		}
		hi := lo
		if isRange {
			if hi, err = parseCPU(last); err != nil {
				return 0, fmt.Errorf("cpu list %q: %w", s, err)
			}
		}
		if hi < lo {
			return 0, fmt.Errorf("cpu list %q: range %s runs backwards", s, item)
		}
		if lo < next {
			return 0, fmt.Errorf("cpu list %q: %s is out of order or overlaps", s, item)
		}
		count += hi - lo + 1
		next = hi + 1
	}
	return count, nil
}

func parseCPU(s string) (int, error) {
	if s == "" || s[0] == '+' {
		return 0, fmt.Errorf("cpu number %q: invalid syntax", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n >= maxCPU {
		return 0, fmt.Errorf("cpu number %q: not a CPU number below %d", s, maxCPU)
	}
	return int(n), nil
}
