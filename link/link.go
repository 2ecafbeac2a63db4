package link

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/pinning"
	"github.com/bpfkit/ebpf/internal/sys"
	"golang.org/x/sys/unix"
)

// ErrNotSupported is returned when the running kernel lacks the hook or the
// kind of link asked for. Errors wrapping it name the feature and, where
// known, the first kernel version that has it.
var ErrNotSupported = internal.ErrNotSupported

// Link is an attachment of a program to a kernel hook. Closing it detaches
// the program unless the link is pinned or another file descriptor of the
// same kernel link is open.
//
// Every Link of this package also satisfies the methods below; link kinds
// the kernel cannot pin, update or describe return an error wrapping
// ErrNotSupported from the corresponding method.
type Link interface {
	// Update replaces the attached program with new, atomically, keeping
	// the attachment (Linux 5.7, not every link type).
	Update(*ebpf.Program) error

	// Pin keeps the link alive after the process ends by pinning it at
	// fileName on a BPF file system (bpffs). A link pinned before moves
	// to fileName.
	Pin(string) error

	// Unpin removes the pin. The link stays attached while this process
	// holds it.
	Unpin() error

	// Close releases the process's hold on the link: the program is
	// detached unless the link is pinned.
	Close() error

	// Info asks the kernel about the link: its type, ID, program and
	// type-specific details (Linux 5.8).
	Info() (*Info, error)

	// Detach detaches the program from its hook, even while the link is
	// pinned or held open elsewhere; the link object lives on, defunct,
	// until the last reference to it is closed (Linux 5.9, not every link
	// type).
	Detach() error

	isLink()
}

// ID uniquely identifies a link in the kernel while the link exists.
type ID uint32

// Type is the kernel's kind of a link (enum bpf_link_type).
type Type = sys.LinkType

// The link types, one per enum bpf_link_type value.
const (
	UnspecifiedType   = sys.BPF_LINK_TYPE_UNSPEC
	RawTracepointType = sys.BPF_LINK_TYPE_RAW_TRACEPOINT
	TracingType       = sys.BPF_LINK_TYPE_TRACING
	CgroupType        = sys.BPF_LINK_TYPE_CGROUP
	IterType          = sys.BPF_LINK_TYPE_ITER
	NetNsType         = sys.BPF_LINK_TYPE_NETNS
	XDPType           = sys.BPF_LINK_TYPE_XDP
	PerfEventType     = sys.BPF_LINK_TYPE_PERF_EVENT
	KprobeMultiType   = sys.BPF_LINK_TYPE_KPROBE_MULTI
	TCXType           = sys.BPF_LINK_TYPE_TCX
	UprobeMultiType   = sys.BPF_LINK_TYPE_UPROBE_MULTI
	NetfilterType     = sys.BPF_LINK_TYPE_NETFILTER
	NetkitType        = sys.BPF_LINK_TYPE_NETKIT
	StructOpsType     = sys.BPF_LINK_TYPE_STRUCT_OPS
	SockmapType       = sys.BPF_LINK_TYPE_SOCKMAP
)

// NewFromFD makes a Link of the open link file descriptor fd, which it takes
// over: the caller must not use or close fd afterwards, even when an error is
// returned. The result has the Go type of the kernel's link type (an *Iter
// for an iterator, a *NetNsLink for a network namespace link, ...).
//
// One bpf(2) call; requires Linux 5.8.
func NewFromFD(fd int) (Link, error) {
	sfd, err := sys.NewFD(fd)
	if err != nil {
		return nil, err
	}
	return wrapRawLink(&RawLink{fd: sfd})
}

// NewFromID opens the link with the given ID, as NewFromFD does for a file
// descriptor. A missing ID gives an error wrapping os.ErrNotExist.
//
// Two bpf(2) calls; requires Linux 5.8 and CAP_SYS_ADMIN.
func NewFromID(id ID) (Link, error) {
	fd, err := sys.LinkGetFdById(&sys.LinkGetFdByIdAttr{LinkId: uint32(id)})
	if err != nil {
		return nil, fmt.Errorf("open link %d: %w", id, err)
	}
	return wrapRawLink(&RawLink{fd: fd})
}

// RawLinkOptions are the arguments of AttachRawLink.
type RawLinkOptions struct {
	// Target is what to attach to: a file descriptor (cgroup, network
	// namespace, map, program) or an interface index, depending on
	// Attach.
	Target int
	// Program to attach.
	Program *ebpf.Program
	// Attach is the attach type; it must agree with the program's.
	Attach ebpf.AttachType
	// BTF is the BTF type ID of the target function, for extension and
	// tracing programs attached to another program.
	BTF btf.TypeID
	// Flags for BPF_LINK_CREATE.
	Flags uint32
}

// AttachRawLink creates a link with BPF_LINK_CREATE from the generic
// arguments in opts. It is the building block of the typed Attach*
// functions; use it for link kinds this package has no helper for (for
// example sockmap links, Linux 6.10: Target is the map, Attach one of the
// sk_skb/sk_msg attach types).
//
// One bpf(2) call (a probe the first time BPF_LINK_CREATE fails); requires
// Linux 5.7.
func AttachRawLink(opts RawLinkOptions) (*RawLink, error) {
	if opts.Target < 0 {
		return nil, fmt.Errorf("create %s link: invalid target %d: %w", opts.Attach, opts.Target, sys.ErrClosedFd)
	}
	progFD, err := programFD(opts.Program)
	if err != nil {
		return nil, fmt.Errorf("create %s link: %w", opts.Attach, err)
	}
	fd, err := sys.LinkCreate(&sys.LinkCreateAttr{
		ProgFd:      progFD,
		TargetFd:    uint32(opts.Target),
		AttachType:  sys.AttachType(opts.Attach),
		TargetBtfId: uint32(opts.BTF),
		Flags:       opts.Flags,
	})
	runtime.KeepAlive(opts.Program)
	if err != nil {
		return nil, fmt.Errorf("create %s link: %w", opts.Attach, linkCreateError(err))
	}
	return &RawLink{fd: fd}, nil
}

// programFD returns the descriptor of prog for a wire struct, or an error
// for a nil or closed program.
func programFD(prog *ebpf.Program) (uint32, error) {
	if prog == nil {
		return 0, errors.New("program is nil")
	}
	fd := prog.FD()
	if fd < 0 {
		return 0, fmt.Errorf("program %s: %w", prog, sys.ErrClosedFd)
	}
	return uint32(fd), nil
}

// linkCreateError turns the EINVAL of a kernel without BPF_LINK_CREATE into
// ErrNotSupported. Other errors are returned unchanged.
func linkCreateError(err error) error {
	if errors.Is(err, unix.EINVAL) {
		if perr := haveBPFLink(); perr != nil {
			return perr
		}
	}
	return err
}

// RawLink is a link the package knows only as a file descriptor. Every typed
// link embeds one; it implements the generic operations.
type RawLink struct {
	fd         *sys.FD
	pinnedPath string
}

func (l *RawLink) isLink() {}

// FD returns the link's file descriptor, or -1 once it is closed. The
// descriptor stays owned by the link.
func (l *RawLink) FD() int {
	return l.fd.Int()
}

// Close releases the link's file descriptor. The kernel detaches the program
// unless the link is pinned or held elsewhere. Closing twice is harmless.
func (l *RawLink) Close() error {
	return l.fd.Close()
}

// Pin pins the link at fileName on a BPF file system. A link pinned before
// moves to fileName (both paths must be on the same bpffs); fileName must
// not exist yet. Pinning to the current path does nothing.
//
// One bpf(2) call (a rename(2) when moving); requires Linux 5.7.
func (l *RawLink) Pin(fileName string) error {
	path, err := pinning.Pin(l.pinnedPath, fileName, l.fd)
	if err != nil {
		return fmt.Errorf("pin link: %w", err)
	}
	l.pinnedPath = path
	return nil
}

// Unpin removes the link's pin, if any. A pin someone else removed counts as
// removed.
func (l *RawLink) Unpin() error {
	if err := pinning.Unpin(l.pinnedPath); err != nil {
		return fmt.Errorf("unpin link: %w", err)
	}
	l.pinnedPath = ""
	return nil
}

// IsPinned reports whether Pin (or LoadPinnedLink) gave the link a path that
// Unpin has not removed.
func (l *RawLink) IsPinned() bool {
	return l.pinnedPath != ""
}

// Update replaces the link's program with new (BPF_LINK_UPDATE, Linux 5.7).
// Link types that cannot change their program return an error wrapping
// ErrNotSupported or the kernel's EOPNOTSUPP/EINVAL.
func (l *RawLink) Update(new *ebpf.Program) error {
	return l.UpdateArgs(RawLinkUpdateOptions{New: new})
}

// RawLinkUpdateOptions are the arguments of RawLink.UpdateArgs.
type RawLinkUpdateOptions struct {
	// New program to attach.
	New *ebpf.Program
	// Old is the program expected to be attached now, or nil for no
	// check. With Old, the update fails with EPERM if another program is
	// attached.
	Old *ebpf.Program
	// Flags for BPF_LINK_UPDATE; BPF_F_REPLACE is set automatically
	// with Old.
	Flags uint32
}

// UpdateArgs replaces the link's program as Update does, optionally only if
// opts.Old is the one attached. One bpf(2) call.
func (l *RawLink) UpdateArgs(opts RawLinkUpdateOptions) error {
	newFD, err := programFD(opts.New)
	if err != nil {
		return fmt.Errorf("update link: new %w", err)
	}
	attr := sys.LinkUpdateAttr{
		LinkFd:    l.fd.Uint(),
		NewProgFd: newFD,
		Flags:     opts.Flags,
	}
	if opts.Old != nil {
		oldFD, err := programFD(opts.Old)
		if err != nil {
			return fmt.Errorf("update link: old %w", err)
		}
		attr.OldProgFd = oldFD
		attr.Flags |= sys.BPF_F_REPLACE
	}
	err = sys.LinkUpdate(&attr)
	runtime.KeepAlive(l.fd)
	runtime.KeepAlive(opts.New)
	runtime.KeepAlive(opts.Old)
	if err != nil {
		return fmt.Errorf("update link: %w", linkCreateError(err))
	}
	return nil
}

// Detach detaches the program while the link object lives on
// (BPF_LINK_DETACH, Linux 5.9). Link types without detach support return
// an error wrapping ErrNotSupported.
func (l *RawLink) Detach() error {
	err := sys.LinkDetach(&sys.LinkDetachAttr{LinkFd: l.fd.Uint()})
	runtime.KeepAlive(l.fd)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EOPNOTSUPP):
		return fmt.Errorf("detach link: %w", &internal.UnsupportedFeatureError{Name: "BPF_LINK_DETACH for this link type"})
	case errors.Is(err, unix.EINVAL):
		if perr := haveLinkDetach(); perr != nil {
			return fmt.Errorf("detach link: %w (%w)", perr, err)
		}
	}
	return fmt.Errorf("detach link: %w", err)
}

// Info asks the kernel about the link (BPF_OBJ_GET_INFO_BY_FD, Linux 5.8).
// Links with variable-sized details (names, addresses) take a second call.
func (l *RawLink) Info() (*Info, error) {
	return linkInfo(l.fd)
}

// checkLinkFD makes sure fd refers to a BPF link: the info of a map or
// program would otherwise be misread as a link's. One readlink(2) of
// /proc/self/fd.
func checkLinkFD(fd *sys.FD) error {
	target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd.Int()))
	runtime.KeepAlive(fd)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", fd, err)
	}
	// A new link's file is "bpf_link"; one reopened from a pin or an ID
	// "bpf-link".
	if target != "anon_inode:bpf_link" && target != "anon_inode:bpf-link" {
		return fmt.Errorf("%s is %s, not a BPF link", fd, target)
	}
	return nil
}

// unsupported returns the error of an operation a link kind lacks.
func unsupported(op, kind string) error {
	return fmt.Errorf("%s %s link: %w", op, kind, ErrNotSupported)
}

// wrapRawLink gives raw the Go type of its kernel link type. It takes
// ownership of raw and closes it on error. One bpf(2) call.
func wrapRawLink(raw *RawLink) (Link, error) {
	if err := checkLinkFD(raw.fd); err != nil {
		raw.Close()
		return nil, err
	}
	var info sys.LinkInfo
	if err := sys.ObjInfo(raw.fd, &info); err != nil {
		raw.Close()
		return nil, fmt.Errorf("link info: %w", err)
	}
	switch info.Type {
	case RawTracepointType:
		return &rawTracepoint{*raw}, nil
	case TracingType:
		return &tracing{*raw}, nil
	case CgroupType:
		return &linkCgroup{*raw}, nil
	case IterType:
		return &Iter{*raw}, nil
	case NetNsType:
		return &NetNsLink{*raw}, nil
	case XDPType:
		return &xdpLink{*raw}, nil
	case PerfEventType:
		return &perfEventLink{RawLink: *raw}, nil
	case KprobeMultiType:
		return &kprobeMultiLink{*raw}, nil
	case TCXType:
		return &tcxLink{*raw}, nil
	case UprobeMultiType:
		return &uprobeMultiLink{*raw}, nil
	case NetfilterType:
		return &netfilterLink{*raw}, nil
	case NetkitType:
		return &netkitLink{*raw}, nil
	case StructOpsType:
		return &structOpsLink{*raw}, nil
	case SockmapType:
		return &sockmapLink{*raw}, nil
	}
	return raw, nil
}
