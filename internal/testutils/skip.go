package testutils

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
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

// SkipIfForbidden skips the test when the kernel answers EPERM although
// the process holds CAP_BPF or CAP_SYS_ADMIN: the environment forbids what
// kind names, not the library. Some kernels refuse tracing, LSM and
// extension programs to root (lockdown, an LSM policy, a restricted build);
// a process whose capability set lacks CAP_SYS_RESOURCE is refused arena
// maps. A process without the bpf capabilities is not skipped here, so a
// missing privilege is never mistaken for a forbidden feature.
//
// Inside the VM tests (BPFKIT_VMTEST set) the kernels and the process are
// chosen to allow everything, so there a forbidden feature fails the test.
func SkipIfForbidden(tb testing.TB, err error, kind string) {
	tb.Helper()
	var perr *sys.PermissionError
	if !errors.As(err, &perr) || !perr.Privileged {
		return
	}
	caps, _ := internal.EffectiveCapabilities()
	if os.Getenv("BPFKIT_VMTEST") != "" {
		tb.Fatalf("kernel forbids %s, but the VM kernels must allow it: %v", kind, err)
	}
	reason := "kernel forbids " + kind + " although the process holds CAP_BPF/CAP_SYS_ADMIN"
	if missing := caps.MissingBPF(); missing != "" {
		reason += " (it lacks " + missing + ")"
	}
	tb.Skipf("%s: %v", reason, err)
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
