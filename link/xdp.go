package link

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// XDPAttachFlags choose how an XDP program is attached (XDP_FLAGS_* of
// linux/if_link.h).
type XDPAttachFlags uint32

const (
	// XDPGenericMode runs the program on the kernel's generic receive
	// path (SKB mode), for drivers without native XDP.
	XDPGenericMode XDPAttachFlags = 1 << 1
	// XDPDriverMode runs the program in the driver's receive path.
	XDPDriverMode XDPAttachFlags = 1 << 2
	// XDPOffloadMode runs the program on the network card.
	XDPOffloadMode XDPAttachFlags = 1 << 3
)

// XDPOptions are the arguments of AttachXDP.
type XDPOptions struct {
	// Program of type XDP.
	Program *ebpf.Program
	// Interface is the index of the network device.
	Interface int
	// Flags select one mode; zero lets the kernel pick driver mode where
	// the driver has it and generic mode otherwise.
	Flags XDPAttachFlags
}

// xdpLink is a BPF_LINK_TYPE_XDP link (5.9).
type xdpLink struct {
	RawLink
}

// AttachXDP attaches an XDP program to a network device with a link
// (BPF_LINK_CREATE, Linux 5.9). A device has one XDP link per mode; a
// program attached through netlink blocks the link (EBUSY). Update
// replaces the program atomically. One bpf(2) call.
func AttachXDP(opts XDPOptions) (Link, error) {
	if opts.Program == nil {
		return nil, errors.New("attach XDP: program is nil")
	}
	if t := opts.Program.Type(); t != ebpf.XDP {
		return nil, fmt.Errorf("attach XDP: program %s has type %s, want XDP", opts.Program, t)
	}
	if opts.Interface < 1 {
		return nil, fmt.Errorf("attach XDP: program %s: invalid interface index %d", opts.Program, opts.Interface)
	}
	progFD, err := programFD(opts.Program)
	if err != nil {
		return nil, fmt.Errorf("attach XDP: %w", err)
	}
	fd, err := sys.LinkCreate(&sys.LinkCreateAttr{
		ProgFd:     progFD,
		TargetFd:   uint32(opts.Interface),
		AttachType: sys.BPF_XDP,
		Flags:      uint32(opts.Flags),
	})
	runtime.KeepAlive(opts.Program)
	if err != nil {
		return nil, fmt.Errorf("attach XDP: program %s to interface %d: %w", opts.Program, opts.Interface, linkCreateError(err))
	}
	return &xdpLink{RawLink{fd: fd}}, nil
}
