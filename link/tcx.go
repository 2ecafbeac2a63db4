package link

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// TCXOptions are the arguments of AttachTCX.
type TCXOptions struct {
	// Interface is the index of the network device.
	Interface int
	// Program of type SchedCLS.
	Program *ebpf.Program
	// Attach is AttachTCXIngress or AttachTCXEgress.
	Attach ebpf.AttachType
	// Anchor places the program among those already attached; nil
	// appends it.
	Anchor Anchor
	// ExpectedRevision makes the attachment fail with ESTALE unless the
	// device's list has this revision (QueryPrograms reports it); 0
	// skips the check.
	ExpectedRevision uint64
	// Flags for BPF_LINK_CREATE; the position is given with Anchor.
	Flags uint32
}

// tcxLink is a BPF_LINK_TYPE_TCX link (6.6).
type tcxLink struct {
	RawLink
}

// AttachTCX attaches a SchedCLS program to the ingress or egress of a
// network device through tcx, the link-based successor of cls_bpf (Linux
// 6.6): programs run in list order and return TCX_NEXT, TCX_PASS, TCX_DROP
// or TCX_REDIRECT. A kernel without tcx gives an error wrapping
// ErrNotSupported. One bpf(2) call (and a memoized probe on failure).
func AttachTCX(opts TCXOptions) (Link, error) {
	fd, err := attachDevice("tcx", opts.Interface, opts.Program, opts.Attach, opts.Anchor, opts.ExpectedRevision, opts.Flags, haveTCX)
	if err != nil {
		return nil, err
	}
	return &tcxLink{RawLink{fd: fd}}, nil
}

// attachDevice creates a tcx or netkit link: both take an interface, an
// anchor and a revision in the same layout.
func attachDevice(kind string, ifindex int, prog *ebpf.Program, attach ebpf.AttachType, anchor Anchor, revision uint64, flags uint32, probe func() error) (*sys.FD, error) {
	if prog == nil {
		return nil, fmt.Errorf("attach %s: program is nil", kind)
	}
	if t := prog.Type(); t != ebpf.SchedCLS {
		return nil, fmt.Errorf("attach %s: program %s has type %s, want SchedCLS", kind, prog, t)
	}
	if ifindex < 1 {
		return nil, fmt.Errorf("attach %s: program %s: invalid interface index %d", kind, prog, ifindex)
	}
	progFD, err := programFD(prog)
	if err != nil {
		return nil, fmt.Errorf("attach %s: %w", kind, err)
	}
	rel, flags, err := anchorArgs(anchor, flags)
	if err != nil {
		return nil, fmt.Errorf("attach %s: program %s: %w", kind, prog, err)
	}
	var fd *sys.FD
	if kind == "netkit" {
		fd, err = sys.LinkCreateNetkit(&sys.LinkCreateNetkitAttr{
			ProgFd:           progFD,
			TargetFd:         uint32(ifindex),
			AttachType:       sys.AttachType(attach),
			Flags:            flags,
			RelativeFd:       rel,
			ExpectedRevision: revision,
		})
	} else {
		fd, err = sys.LinkCreateTcx(&sys.LinkCreateTcxAttr{
			ProgFd:           progFD,
			TargetFd:         uint32(ifindex),
			AttachType:       sys.AttachType(attach),
			Flags:            flags,
			RelativeFd:       rel,
			ExpectedRevision: revision,
		})
	}
	runtime.KeepAlive(prog)
	runtime.KeepAlive(anchor)
	if err != nil {
		if errors.Is(err, unix.EINVAL) {
			if perr := probe(); perr != nil {
				err = fmt.Errorf("%w (%w)", perr, err)
			}
		}
		return nil, fmt.Errorf("attach %s: program %s as %s to interface %d: %w", kind, prog, attach, ifindex, err)
	}
	return fd, nil
}
