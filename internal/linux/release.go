package linux

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

var kernelRelease = sync.OnceValues(func() (string, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	return unix.ByteSliceToString(uts.Release[:]), nil
})

// KernelRelease returns uname's release string, e.g. "6.18.44-amd64", which
// names the kernel's files (/boot/config-<release>,
// /lib/modules/<release>, /boot/vmlinux-<release>). For the version as
// numbers use internal.KernelVersion. The result is cached.
func KernelRelease() (string, error) {
	return kernelRelease()
}
