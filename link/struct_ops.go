package link

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// StructOpsOptions are the arguments of AttachStructOps.
type StructOpsOptions struct {
	// Map of type StructOpsMap, created with BPF_F_LINK (a map from a
	// ".struct_ops.link" section) and its programs set.
	Map *ebpf.Map
}

// AttachStructOps registers a struct_ops map with its kernel subsystem
// through a link (BPF_LINK_CREATE with BPF_STRUCT_OPS, Linux 6.4): for
// example a TCP congestion control becomes available while the link
// lives. Maps without BPF_F_LINK register when they are updated, not
// here; the kernel refuses them with EINVAL. One bpf(2) call.
func AttachStructOps(opts StructOpsOptions) (Link, error) {
	m := opts.Map
	if m == nil {
		return nil, errors.New("attach struct_ops: map is nil")
	}
	if t := m.Type(); t != ebpf.StructOpsMap {
		return nil, fmt.Errorf("attach struct_ops: map %s has type %s, want StructOpsMap", m, t)
	}
	fd := m.FD()
	if fd < 0 {
		return nil, fmt.Errorf("attach struct_ops: map %s: %w", m, sys.ErrClosedFd)
	}
	// The map goes where other links take their program.
	lfd, err := sys.LinkCreate(&sys.LinkCreateAttr{ProgFd: uint32(fd), AttachType: sys.BPF_STRUCT_OPS})
	runtime.KeepAlive(m)
	if err != nil {
		return nil, fmt.Errorf("attach struct_ops: map %s: %w", m, linkCreateError(err))
	}
	return &structOpsLink{RawLink{fd: lfd}}, nil
}

// structOpsLink is a BPF_LINK_TYPE_STRUCT_OPS link (6.4): a struct_ops map
// registered with its kernel subsystem.
type structOpsLink struct {
	RawLink
}

// Update is not supported: a struct_ops link changes its map, not a
// program.
func (*structOpsLink) Update(*ebpf.Program) error {
	return unsupported("update", "struct_ops")
}
