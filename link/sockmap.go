package link

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// sockmapLink is a BPF_LINK_TYPE_SOCKMAP link (6.10): an sk_skb or sk_msg
// program attached to a sockmap or sockhash with BPF_LINK_CREATE. Create
// one with AttachSockmap.
type sockmapLink struct {
	RawLink
}

// SockmapOptions are the arguments of AttachSockmap.
type SockmapOptions struct {
	// Map of type SockMap or SockHash.
	Map *ebpf.Map
	// Program of type SkSKB or SkMsg.
	Program *ebpf.Program
	// Attach is AttachSkSKBStreamParser, AttachSkSKBStreamVerdict,
	// AttachSkSKBVerdict or AttachSkMsgVerdict.
	Attach ebpf.AttachType
}

// AttachSockmap attaches an sk_skb or sk_msg program to a sockmap or
// sockhash with a link (Linux 6.10): the program runs for the sockets in
// the map. Update replaces it; Close detaches it. Older kernels attach
// with RawAttachProgram (Target: the map's descriptor) instead. One bpf(2)
// call.
func AttachSockmap(opts SockmapOptions) (Link, error) {
	if opts.Map == nil {
		return nil, errors.New("attach sockmap: map is nil")
	}
	if t := opts.Map.Type(); t != ebpf.SockMap && t != ebpf.SockHash {
		return nil, fmt.Errorf("attach sockmap: map %s has type %s, want SockMap or SockHash", opts.Map, t)
	}
	mapFD := opts.Map.FD()
	if mapFD < 0 {
		return nil, fmt.Errorf("attach sockmap: map %s: %w", opts.Map, sys.ErrClosedFd)
	}
	progFD, err := programFD(opts.Program)
	if err != nil {
		return nil, fmt.Errorf("attach sockmap: %w", err)
	}
	fd, err := sys.LinkCreate(&sys.LinkCreateAttr{ProgFd: progFD, TargetFd: uint32(mapFD), AttachType: sys.AttachType(opts.Attach)})
	runtime.KeepAlive(opts.Map)
	runtime.KeepAlive(opts.Program)
	if err != nil {
		if errors.Is(err, unix.EINVAL) {
			if perr := haveSockmapLink(); perr != nil {
				err = fmt.Errorf("%w (%w)", perr, err)
			}
		}
		return nil, fmt.Errorf("attach sockmap: program %s as %s to map %s: %w", opts.Program, opts.Attach, opts.Map, err)
	}
	return &sockmapLink{RawLink{fd: fd}}, nil
}

// haveSockmapLink: sockmap links (6.10). An sk_msg program linked to an
// invalid map fd gets EBADF from a kernel that has them, EINVAL before.
var haveSockmapLink = internal.NewFeatureTest("sockmap links", func() error {
	prog, err := loadProbeProgram(sys.BPF_PROG_TYPE_SK_MSG, sys.BPF_SK_MSG_VERDICT)
	if err != nil {
		return err
	}
	defer prog.Close()
	_, err = sys.LinkCreate(&sys.LinkCreateAttr{ProgFd: prog.Uint(), TargetFd: badFD, AttachType: sys.BPF_SK_MSG_VERDICT})
	return ebadfMeansSupported(err)
}, "6.10")
