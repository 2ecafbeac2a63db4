package link

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// NetfilterAttachFlags are flags of a netfilter link.
type NetfilterAttachFlags uint32

// NetfilterIPDefrag makes the hook see defragmented packets
// (BPF_F_NETFILTER_IP_DEFRAG, Linux 6.6; the priority must then be above
// the defragmentation hook's, -400).
const NetfilterIPDefrag NetfilterAttachFlags = sys.BPF_F_NETFILTER_IP_DEFRAG

// NetfilterInetHook is a netfilter hook of the inet families (enum
// nf_inet_hooks).
type NetfilterInetHook uint32

// The netfilter inet hooks (linux/netfilter.h).
const (
	NetfilterInetPreRouting  NetfilterInetHook = 0
	NetfilterInetLocalIn     NetfilterInetHook = 1
	NetfilterInetForward     NetfilterInetHook = 2
	NetfilterInetLocalOut    NetfilterInetHook = 3
	NetfilterInetPostRouting NetfilterInetHook = 4
)

// NetfilterProtocolFamily is a netfilter protocol family (NFPROTO_*).
type NetfilterProtocolFamily uint32

// The netfilter protocol families (linux/netfilter.h). BPF links take
// IPv4 and IPv6.
const (
	NetfilterProtoUnspec NetfilterProtocolFamily = 0
	// NetfilterProtoInet stands for IPv4 and IPv6 together.
	NetfilterProtoInet   NetfilterProtocolFamily = 1
	NetfilterProtoIPv4   NetfilterProtocolFamily = 2
	NetfilterProtoARP    NetfilterProtocolFamily = 3
	NetfilterProtoNetdev NetfilterProtocolFamily = 5
	NetfilterProtoBridge NetfilterProtocolFamily = 7
	NetfilterProtoIPv6   NetfilterProtocolFamily = 10
)

// NetfilterOptions are the arguments of AttachNetfilter.
type NetfilterOptions struct {
	// Program of type Netfilter.
	Program *ebpf.Program
	// ProtocolFamily is NetfilterProtoIPv4 or NetfilterProtoIPv6.
	ProtocolFamily NetfilterProtocolFamily
	// Hook to attach to.
	Hook NetfilterInetHook
	// Priority among the hook's functions (lower runs first); the
	// kernel reserves the extremes INT_MIN and INT_MAX.
	Priority int32
	// Flags for BPF_LINK_CREATE.
	Flags uint32
	// NetfilterFlags for the netfilter hook.
	NetfilterFlags NetfilterAttachFlags
}

// netfilterLink is a BPF_LINK_TYPE_NETFILTER link (6.4).
type netfilterLink struct {
	RawLink
}

// Update is not supported by netfilter links.
func (*netfilterLink) Update(_ *ebpf.Program) error {
	return unsupported("update", "netfilter")
}

// AttachNetfilter attaches a netfilter program to a hook of a protocol
// family (Linux 6.4). The program returns NF_ACCEPT or NF_DROP. One bpf(2)
// call.
func AttachNetfilter(opts NetfilterOptions) (Link, error) {
	if opts.Program == nil {
		return nil, errors.New("attach netfilter: program is nil")
	}
	if t := opts.Program.Type(); t != ebpf.Netfilter {
		return nil, fmt.Errorf("attach netfilter: program %s has type %s, want Netfilter", opts.Program, t)
	}
	progFD, err := programFD(opts.Program)
	if err != nil {
		return nil, fmt.Errorf("attach netfilter: %w", err)
	}
	fd, err := sys.LinkCreateNetfilter(&sys.LinkCreateNetfilterAttr{
		ProgFd:         progFD,
		AttachType:     sys.BPF_NETFILTER,
		Flags:          opts.Flags,
		Pf:             uint32(opts.ProtocolFamily),
		Hooknum:        uint32(opts.Hook),
		Priority:       opts.Priority,
		NetfilterFlags: uint32(opts.NetfilterFlags),
	})
	runtime.KeepAlive(opts.Program)
	if err != nil {
		return nil, fmt.Errorf("attach netfilter: program %s to family %d hook %d priority %d: %w",
			opts.Program, opts.ProtocolFamily, opts.Hook, opts.Priority, linkCreateError(err))
	}
	return &netfilterLink{RawLink{fd: fd}}, nil
}
