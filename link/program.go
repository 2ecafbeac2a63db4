package link

import (
	"fmt"
	"runtime"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// RawAttachProgramOptions are the arguments of RawAttachProgram.
type RawAttachProgramOptions struct {
	// Target to attach to: a cgroup or network namespace descriptor, a
	// sockmap/sockhash map descriptor, an interface index (tcx), ...
	// depending on Attach.
	Target int
	// Program to attach.
	Program *ebpf.Program
	// Attach is the attach type; it must agree with the program's.
	Attach ebpf.AttachType
	// Anchor places the program among those already attached, for
	// targets with ordered lists (6.6); nil appends it.
	Anchor Anchor
	// Flags for BPF_PROG_ATTACH (BPF_F_ALLOW_MULTI, ...); the position
	// is given with Anchor.
	Flags uint32
	// ExpectedRevision makes the attachment fail with ESTALE unless the
	// target's list has this revision; 0 skips the check.
	ExpectedRevision uint64
}

// RawAttachProgram attaches a program with BPF_PROG_ATTACH (Linux 4.10):
// the attachment is not a link and stays until RawDetachProgram (or until
// the target goes away). This is how sk_skb and sk_msg programs attach to
// a sockmap or sockhash (Target is the map), and how programs attach on
// kernels without links. One bpf(2) call.
func RawAttachProgram(opts RawAttachProgramOptions) error {
	progFD, err := programFD(opts.Program)
	if err != nil {
		return fmt.Errorf("attach %s program: %w", opts.Attach, err)
	}
	if opts.Target < 0 {
		return fmt.Errorf("attach %s program %s: invalid target %d: %w", opts.Attach, opts.Program, opts.Target, sys.ErrClosedFd)
	}
	rel, flags, err := anchorArgs(opts.Anchor, opts.Flags)
	if err != nil {
		return fmt.Errorf("attach %s program %s: %w", opts.Attach, opts.Program, err)
	}
	err = sys.ProgAttach(&sys.ProgAttachAttr{
		TargetFd:         uint32(opts.Target),
		AttachBpfFd:      progFD,
		AttachType:       sys.AttachType(opts.Attach),
		AttachFlags:      flags,
		RelativeFd:       rel,
		ExpectedRevision: opts.ExpectedRevision,
	})
	runtime.KeepAlive(opts.Program)
	runtime.KeepAlive(opts.Anchor)
	if err != nil {
		return fmt.Errorf("attach %s program %s to %d: %w", opts.Attach, opts.Program, opts.Target, err)
	}
	return nil
}

// RawDetachProgramOptions are the arguments of RawDetachProgram; Program
// is the program to detach.
type RawDetachProgramOptions RawAttachProgramOptions

// RawDetachProgram detaches a program attached with BPF_PROG_ATTACH
// (BPF_PROG_DETACH, Linux 4.10). One bpf(2) call.
func RawDetachProgram(opts RawDetachProgramOptions) error {
	if opts.Program == nil {
		return fmt.Errorf("detach %s program: program is nil", opts.Attach)
	}
	progFD, err := programFD(opts.Program)
	if err != nil {
		return fmt.Errorf("detach %s program: %w", opts.Attach, err)
	}
	rel, flags, err := anchorArgs(opts.Anchor, opts.Flags)
	if err != nil {
		return fmt.Errorf("detach %s program %s: %w", opts.Attach, opts.Program, err)
	}
	err = sys.ProgDetach(&sys.ProgDetachAttr{
		TargetFd:         uint32(opts.Target),
		AttachBpfFd:      progFD,
		AttachType:       sys.AttachType(opts.Attach),
		AttachFlags:      flags,
		RelativeFd:       rel,
		ExpectedRevision: opts.ExpectedRevision,
	})
	runtime.KeepAlive(opts.Program)
	runtime.KeepAlive(opts.Anchor)
	if err != nil {
		return fmt.Errorf("detach %s program %s from %d: %w", opts.Attach, opts.Program, opts.Target, err)
	}
	return nil
}
