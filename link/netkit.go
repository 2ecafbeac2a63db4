package link

import (
	"github.com/bpfkit/ebpf"
)

// NetkitOptions are the arguments of AttachNetkit.
type NetkitOptions struct {
	// Interface is the index of the netkit device (the primary or the
	// peer of a pair; the attach type selects which side's traffic).
	Interface int
	// Program of type SchedCLS.
	Program *ebpf.Program
	// Attach is AttachNetkitPrimary or AttachNetkitPeer.
	Attach ebpf.AttachType
	// Anchor places the program among those already attached; nil
	// appends it.
	Anchor Anchor
	// ExpectedRevision makes the attachment fail with ESTALE unless the
	// device's list has this revision; 0 skips the check.
	ExpectedRevision uint64
	// Flags for BPF_LINK_CREATE; the position is given with Anchor.
	Flags uint32
}

// netkitLink is a BPF_LINK_TYPE_NETKIT link (6.7).
type netkitLink struct {
	RawLink
}

// AttachNetkit attaches a SchedCLS program to a netkit device (Linux 6.7,
// CONFIG_NETKIT), the BPF-programmable veth. A kernel without netkit gives
// an error wrapping ErrNotSupported. One bpf(2) call (and a memoized probe
// on failure).
func AttachNetkit(opts NetkitOptions) (Link, error) {
	fd, err := attachDevice("netkit", opts.Interface, opts.Program, opts.Attach, opts.Anchor, opts.ExpectedRevision, opts.Flags, haveNetkit)
	if err != nil {
		return nil, err
	}
	return &netkitLink{RawLink{fd: fd}}, nil
}
