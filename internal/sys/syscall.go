package sys

import (
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
)

// ENOTSUPP is the kernel-internal errno 524 that some bpf(2) commands
// return for an operation the kernel does not support (for example
// BPF_PROG_TEST_RUN on a program type without a test runner). It is not
// part of the user space errno list, so golang.org/x/sys/unix lacks it.
const ENOTSUPP = unix.Errno(524)

// Retry limits. A signal that arrives while the verifier runs makes
// BPF_PROG_LOAD fail with EAGAIN; a signal during a command that waits
// (BPF_PROG_TEST_RUN with a repeat count) makes it fail with EINTR. Both
// are retried a bounded number of times so that a stream of signals can
// not make a call spin forever.
const (
	maxEINTRRetries  = 64
	maxEAGAINRetries = 10
)

// BPF issues the bpf(2) command cmd with the attribute struct at attr,
// size bytes long. It is the module's only door to the kernel: every
// typed wrapper calls it, and so must any code that needs a command with a
// hand-made attribute (feature probes that pass a truncated struct).
//
// It returns the command's result (a new file descriptor for commands that
// create one). Errors are the kernel's errno, matched with errors.Is; EPERM
// carries a hint at the missing privilege and ENOTSUPP says what it means.
// EINTR is retried for every command, EAGAIN for BPF_PROG_LOAD.
//
// attr must point to a struct whose Pointer members reference memory that
// is alive; BPF keeps attr itself alive until the kernel returns. BPF does
// not allocate, and attr does not escape, so a caller's attribute struct
// stays on its stack. Tests can make calls fail with InjectFaults.
func BPF(cmd Cmd, attr unsafe.Pointer, size uintptr) (uintptr, error) {
	for try := 1; ; try++ {
		r, errno, err := bpfOnce(cmd, attr, size)
		switch {
		case err != nil:
			return 0, err
		case errno == 0:
			return r, nil
		case errno == unix.EINTR && try <= maxEINTRRetries:
			continue
		case errno == unix.EAGAIN && cmd == BPF_PROG_LOAD && try <= maxEAGAINRetries:
			continue
		}
		return 0, errnoError(cmd, errno)
	}
}

// bpfOnce makes one attempt, or lets the fault hook decide its outcome.
// It must not let attr escape: the hook only learns the command.
func bpfOnce(cmd Cmd, attr unsafe.Pointer, size uintptr) (uintptr, unix.Errno, error) {
	if h := faultHook.Load(); h != nil {
		if err := h.next(cmd); err != nil {
			if errno, ok := err.(unix.Errno); ok {
				return 0, errno, nil
			}
			return 0, 0, err
		}
	}
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	runtime.KeepAlive(attr)
	return r, errno, nil
}

// errnoError turns an errno into the error BPF returns. Apart from EPERM
// on a command where it means a privilege problem, only package-level
// values are returned, so that failing calls (a lookup of a missing key,
// an update of a read-only map) do not allocate either.
func errnoError(cmd Cmd, errno unix.Errno) error {
	switch errno {
	case unix.EPERM:
		if elementCommand(cmd) {
			// The map refuses the operation (read-only, frozen): not a
			// question of privilege.
			return unix.EPERM
		}
		return explainPermission()
	case ENOTSUPP:
		return errNotSupp
	}
	return errno
}

// elementCommand reports whether cmd works on the elements of an existing
// map, where EPERM means the map forbids the access.
func elementCommand(cmd Cmd) bool {
	switch cmd {
	case BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY,
		BPF_MAP_LOOKUP_AND_DELETE_ELEM, BPF_MAP_LOOKUP_BATCH, BPF_MAP_LOOKUP_AND_DELETE_BATCH,
		BPF_MAP_UPDATE_BATCH, BPF_MAP_DELETE_BATCH, BPF_MAP_FREEZE:
		return true
	}
	return false
}

// errnoHint is an errno with a longer explanation. errors.Is matches it
// with its errno.
type errnoHint struct {
	errno unix.Errno
	text  string
}

func (e *errnoHint) Error() string { return e.text }
func (e *errnoHint) Unwrap() error { return e.errno }

var errNotSupp error = &errnoHint{ENOTSUPP, "operation not supported by the kernel (ENOTSUPP)"}

// PermissionError is bpf(2)'s EPERM on a command that checks privileges,
// explained by what the process holds. errors.Is matches it with EPERM.
type PermissionError struct {
	// Privileged is true when the process held CAP_BPF or CAP_SYS_ADMIN:
	// then the kernel refused for another reason (an LSM, lockdown, a
	// sandbox, a capability such as CAP_SYS_RESOURCE missing).
	Privileged bool
	text       string
}

func (e *PermissionError) Error() string { return e.text }
func (e *PermissionError) Unwrap() error { return unix.EPERM }

// explainPermission says why bpf(2) answered EPERM, as far as the process
// can tell: which of the capabilities bpf(2) checks it lacks, and whether
// RLIMIT_MEMLOCK may be the cause (kernels before 5.11 charge BPF memory
// to it). A process that holds CAP_BPF or CAP_SYS_ADMIN was refused for
// another reason, and the text says so instead of asking for them.
func explainPermission() error {
	caps, known := internal.EffectiveCapabilities()
	memlock := true
	if v, err := internal.KernelVersion(); err == nil && !v.Less(internal.Version{5, 11}) {
		memlock = false
	}
	return &PermissionError{known && caps.CanUseBPF(), permissionText(caps, known, memlock)}
}

func permissionText(caps internal.Capabilities, known, memlock bool) string {
	var text string
	switch {
	case !known:
		text = "operation not permitted: bpf(2) requires CAP_BPF or CAP_SYS_ADMIN"
	case !caps.CanUseBPF():
		text = "operation not permitted: bpf(2) requires CAP_BPF or CAP_SYS_ADMIN, and the process has neither"
	default:
		var held []string
		for _, c := range []struct {
			cap  uint
			name string
		}{{unix.CAP_BPF, "CAP_BPF"}, {unix.CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}} {
			if caps.Has(c.cap) {
				held = append(held, c.name)
			}
		}
		text = "operation not permitted although the process holds " + strings.Join(held, " and ") + ": "
		if missing := caps.MissingBPF(); missing != "" {
			text += "it lacks " + missing + ", or "
		}
		text += "an LSM, lockdown, kernel.unprivileged_bpf_disabled or a sandbox forbids it"
	}
	if memlock {
		text += "; on kernels before 5.11 also RLIMIT_MEMLOCK (see rlimit.RemoveMemlock)"
	}
	return text
}
