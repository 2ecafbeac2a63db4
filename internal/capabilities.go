package internal

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Capabilities is a set of Linux capabilities, bit n for capability n.
type Capabilities uint64

// The capabilities that decide what bpf(2) and the attach paths allow.
// CAP_SYS_RESOURCE matters for memory charged to the process (arena maps
// on some kernels, RLIMIT_MEMLOCK before 5.11), CAP_PERFMON for tracing
// programs and pointer reads, CAP_NET_ADMIN for networking program types.
var bpfCapabilities = []struct {
	cap  uint
	name string
}{
	{unix.CAP_BPF, "CAP_BPF"},
	{unix.CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
	{unix.CAP_PERFMON, "CAP_PERFMON"},
	{unix.CAP_NET_ADMIN, "CAP_NET_ADMIN"},
	{unix.CAP_SYS_RESOURCE, "CAP_SYS_RESOURCE"},
}

// EffectiveCapabilities returns the calling thread's effective capability
// set (one capget(2)). ok is false when the kernel doesn't answer.
func EffectiveCapabilities() (caps Capabilities, ok bool) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, false
	}
	return Capabilities(data[0].Effective) | Capabilities(data[1].Effective)<<32, true
}

// Has reports whether every capability in caps is in the set.
func (c Capabilities) Has(caps ...uint) bool {
	for _, cap := range caps {
		if c&(1<<cap) == 0 {
			return false
		}
	}
	return true
}

// CanUseBPF reports whether the set allows privileged bpf(2): CAP_BPF
// (5.8) or CAP_SYS_ADMIN.
func (c Capabilities) CanUseBPF() bool {
	return c.Has(unix.CAP_BPF) || c.Has(unix.CAP_SYS_ADMIN)
}

// MissingBPF names, in a fixed order, the capabilities that bpf(2) and the
// attach paths check and that the set lacks: "CAP_PERFMON, CAP_SYS_RESOURCE".
// It returns "" when none is missing.
func (c Capabilities) MissingBPF() string {
	var missing []string
	for _, bc := range bpfCapabilities {
		if !c.Has(bc.cap) {
			missing = append(missing, bc.name)
		}
	}
	return strings.Join(missing, ", ")
}
