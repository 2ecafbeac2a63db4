package features

import "github.com/bpfkit/ebpf/internal"

// LinuxVersionCode returns the running kernel's version as the
// LINUX_VERSION_CODE macro encodes it: KERNEL_VERSION(a, b, c) is
// a<<16 | b<<8 | min(c, 255). It is read once, from the vDSO's note (what
// the kernel was built as, even where uname lies) or else from uname(2).
//
// Prefer the probes of this package to deciding by version:
// distributions backport features and leave others out.
func LinuxVersionCode() (uint32, error) {
	v, err := internal.KernelVersion()
	if err != nil {
		return 0, err
	}
	return v.Kernel(), nil
}
