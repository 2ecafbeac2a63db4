package link

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// NetNsLink is a BPF_LINK_TYPE_NETNS link (5.7): a flow dissector or
// sk_lookup program attached to a network namespace.
type NetNsLink struct {
	RawLink
}

// AttachNetNs attaches a program to the network namespace open at ns (a
// descriptor of /proc/<pid>/ns/net or a bind mount of it; the caller keeps
// and closes it). The program type selects the hook: FlowDissector
// (Linux 5.7; one per namespace) or SkLookup (5.9; several run in turn).
// Update replaces the program. One bpf(2) call.
func AttachNetNs(ns int, prog *ebpf.Program) (*NetNsLink, error) {
	if prog == nil {
		return nil, errors.New("attach netns: program is nil")
	}
	var attach sys.AttachType
	switch t := prog.Type(); t {
	case ebpf.FlowDissector:
		attach = sys.BPF_FLOW_DISSECTOR
	case ebpf.SkLookup:
		attach = sys.BPF_SK_LOOKUP
	default:
		return nil, fmt.Errorf("attach netns: program %s has type %s, want FlowDissector or SkLookup", prog, t)
	}
	if ns < 0 {
		return nil, fmt.Errorf("attach netns: program %s: invalid namespace fd %d: %w", prog, ns, sys.ErrClosedFd)
	}
	progFD, err := programFD(prog)
	if err != nil {
		return nil, fmt.Errorf("attach netns: %w", err)
	}
	fd, err := sys.LinkCreate(&sys.LinkCreateAttr{ProgFd: progFD, TargetFd: uint32(ns), AttachType: attach})
	runtime.KeepAlive(prog)
	if err != nil {
		return nil, fmt.Errorf("attach netns: program %s as %s: %w", prog, attach, linkCreateError(err))
	}
	return &NetNsLink{RawLink{fd: fd}}, nil
}

// Info asks the kernel about the link; see RawLink.Info.
func (ns *NetNsLink) Info() (*Info, error) {
	return ns.RawLink.Info()
}
