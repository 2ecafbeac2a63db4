package testutils

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
)

// SkipIfNotSupported skips the test if err says the kernel lacks a feature
// (it wraps internal.ErrNotSupported). The skip message carries the error,
// which names the feature and the kernel that has it. Any other non-nil
// error is left for the caller to check.
func SkipIfNotSupported(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, internal.ErrNotSupported) {
		tb.Skip("kernel feature missing:", err)
	}
}

// SkipIfForbidden skips the test when loading a program of a type this
// kernel refuses even to root returns EPERM: on some kernels (lockdown,
// restricted builds) tracing, LSM and extension programs are forbidden.
// kind names the program type for the message. It only skips when the
// process is privileged, so that a missing privilege is never mistaken for
// a forbidden program type.
//
// Inside the VM tests (BPFKIT_VMTEST set) the kernels are chosen to allow
// every program type, so there a forbidden program fails the test instead.
func SkipIfForbidden(tb testing.TB, err error, kind string) {
	tb.Helper()
	if errors.Is(err, unix.EPERM) && os.Geteuid() == 0 {
		if os.Getenv("BPFKIT_VMTEST") != "" {
			tb.Fatalf("kernel forbids %s programs even to root, but the VM kernels must allow them: %v", kind, err)
		}
		tb.Skipf("kernel forbids %s programs even to root: %v", kind, err)
	}
}

// RequireRoot skips the test unless it runs as root: bpf(2) needs CAP_BPF
// or CAP_SYS_ADMIN for almost everything the kernel tests do.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if uid := os.Geteuid(); uid != 0 {
		tb.Skipf("requires root (CAP_BPF or CAP_SYS_ADMIN for bpf(2), CAP_SYS_ADMIN for mounts and tracefs); running as uid %d", uid)
	}
}

// SkipOnOldKernel skips the test if the running kernel is older than
// minVersion, the first kernel that has feature. Prefer feature probes
// (SkipIfNotSupported); use this where no probe exists.
func SkipOnOldKernel(tb testing.TB, minVersion, feature string) {
	tb.Helper()
	want, err := internal.NewVersion(minVersion)
	if err != nil {
		tb.Fatal(err)
	}
	have, err := internal.KernelVersion()
	if err != nil {
		tb.Fatal(err)
	}
	if have.Less(want) {
		tb.Skip(fmt.Sprintf("%s requires kernel >= %s, running %s", feature, want, have))
	}
}
