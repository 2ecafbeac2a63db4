package internal

import (
	"errors"
	"fmt"
)

// ErrNotSupported marks an error caused by a kernel that lacks a feature.
// Callers test for it with errors.Is; the root package re-exports it as
// ebpf.ErrNotSupported.
var ErrNotSupported = errors.New("not supported")

// UnsupportedFeatureError names a missing kernel feature and, when known,
// the first kernel version that has it. It wraps ErrNotSupported.
type UnsupportedFeatureError struct {
	// MinimumVersion is the first kernel that has the feature; the zero
	// Version means it is not known.
	MinimumVersion Version
	// Name of the feature, e.g. "map type ringbuf".
	Name string
}

func (ufe *UnsupportedFeatureError) Error() string {
	if ufe.MinimumVersion.Unspecified() {
		return fmt.Sprintf("%s not supported", ufe.Name)
	}
	return fmt.Sprintf("%s not supported (requires >= %s)", ufe.Name, ufe.MinimumVersion)
}

// Is makes errors.Is(err, ErrNotSupported) true for every
// UnsupportedFeatureError.
func (ufe *UnsupportedFeatureError) Is(target error) bool {
	return target == ErrNotSupported
}

// ErrRestrictedKernel is returned when the kernel hides information, such
// as kernel addresses, from the caller. The root package re-exports it.
var ErrRestrictedKernel = errors.New("restricted by kernel.kptr_restrict and/or net.core.bpf_jit_harden sysctls")
