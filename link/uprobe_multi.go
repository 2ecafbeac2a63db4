package link

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// UprobeMultiOptions are the optional arguments of UprobeMulti and
// UretprobeMulti. The slices that are set have one entry per probe.
type UprobeMultiOptions struct {
	// Addresses are file offsets of the probed functions; they replace
	// the symbols (pass none then).
	Addresses []uint64
	// Offsets are added to each symbol's (or address's) offset, to probe
	// instructions inside the functions.
	Offsets []uint64
	// RefCtrOffsets are file offsets of reference counters (USDT
	// semaphores), 0 for none.
	RefCtrOffsets []uint64
	// Cookies are returned by bpf_get_attach_cookie() in the program, one
	// per probe.
	Cookies []uint64
	// PID limits the probes to one process; 0 probes every process.
	PID uint32
}

// uprobeMultiLink is a BPF_LINK_TYPE_UPROBE_MULTI link (6.6).
type uprobeMultiLink struct {
	RawLink
}

// Update is not supported by uprobe_multi links.
func (*uprobeMultiLink) Update(_ *ebpf.Program) error {
	return unsupported("update", "uprobe_multi")
}

// UprobeMulti attaches prog (type Kprobe, attach type
// AttachTraceUprobeMulti) to the entries of several functions of the file
// with one link (Linux 6.6): cheaper than one Uprobe each, and without
// perf events or tracefs. A kernel without uprobe_multi links gives an
// error wrapping ErrNotSupported. The first call reads the symbol tables;
// then one bpf(2) call.
func (ex *Executable) UprobeMulti(symbols []string, prog *ebpf.Program, opts *UprobeMultiOptions) (Link, error) {
	return ex.uprobeMulti(symbols, prog, opts, 0)
}

// UretprobeMulti attaches prog to the returns of several functions, as
// UprobeMulti does to their entries. See Uretprobe for the caveat about
// runtimes that inspect their stacks.
func (ex *Executable) UretprobeMulti(symbols []string, prog *ebpf.Program, opts *UprobeMultiOptions) (Link, error) {
	return ex.uprobeMulti(symbols, prog, opts, sys.BPF_F_UPROBE_MULTI_RETURN)
}

func (ex *Executable) uprobeMulti(symbols []string, prog *ebpf.Program, opts *UprobeMultiOptions, flags uint32) (Link, error) {
	if opts == nil {
		opts = &UprobeMultiOptions{}
	}
	what := "uprobe_multi " + ex.path
	if flags != 0 {
		what = "uretprobe_multi " + ex.path
	}
	if prog == nil {
		return nil, fmt.Errorf("%s: program is nil", what)
	}
	if prog.Type() != ebpf.Kprobe {
		return nil, fmt.Errorf("%s: program %s has type %s, want Kprobe", what, prog, prog.Type())
	}
	offsets, err := ex.multiOffsets(symbols, opts.Addresses, opts.Offsets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	n := len(offsets)
	if len(opts.RefCtrOffsets) != 0 && len(opts.RefCtrOffsets) != n {
		return nil, fmt.Errorf("%s: %d RefCtrOffsets for %d probes", what, len(opts.RefCtrOffsets), n)
	}
	if len(opts.Cookies) != 0 && len(opts.Cookies) != n {
		return nil, fmt.Errorf("%s: %d Cookies for %d probes", what, len(opts.Cookies), n)
	}
	progFD, err := programFD(prog)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	fd, err := sys.LinkCreateUprobeMulti(&sys.LinkCreateUprobeMultiAttr{
		ProgFd:           progFD,
		AttachType:       sys.BPF_TRACE_UPROBE_MULTI,
		Path:             sys.NewStringPointer(ex.path),
		Offsets:          sys.NewSlicePointer(offsets),
		RefCtrOffsets:    sys.NewSlicePointer(opts.RefCtrOffsets),
		Cookies:          sys.NewSlicePointer(opts.Cookies),
		Cnt:              uint32(n),
		UprobeMultiFlags: flags,
		Pid:              opts.PID,
	})
	runtime.KeepAlive(prog)
	runtime.KeepAlive(offsets)
	runtime.KeepAlive(opts)
	if err != nil {
		switch {
		case errors.Is(err, unix.EINVAL):
			if perr := haveBPFLinkUprobeMulti(); perr != nil {
				err = fmt.Errorf("%w (%w)", perr, err)
			}
		case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, sys.ENOTSUPP):
			err = fmt.Errorf("%w (%w)", &internal.UnsupportedFeatureError{Name: "uprobe_multi links (CONFIG_UPROBES)", MinimumVersion: internal.Version{6, 6, 0}}, err)
		case errors.Is(err, unix.ESRCH):
			err = fmt.Errorf("%w: no process with the given PID (%w)", os.ErrNotExist, err)
		}
		return nil, fmt.Errorf("%s: create link: %w", what, err)
	}
	return &uprobeMultiLink{RawLink{fd: fd}}, nil
}

// maxUprobeMulti is the kernel's limit on the probes of one link
// (MAX_UPROBE_MULTI_CNT).
const maxUprobeMulti = 1 << 20

// multiOffsets resolves the probes' file offsets: from symbols, or from
// addresses, plus offsets.
func (ex *Executable) multiOffsets(symbols []string, addresses, offsets []uint64) ([]uint64, error) {
	var n int
	switch {
	case len(symbols) != 0 && len(addresses) != 0:
		return nil, errors.New("give symbols or Addresses, not both")
	case len(symbols) != 0:
		n = len(symbols)
	case len(addresses) != 0:
		n = len(addresses)
	default:
		return nil, errors.New("no symbols and no Addresses")
	}
	if n > maxUprobeMulti {
		return nil, fmt.Errorf("%d probes, more than the kernel's %d", n, maxUprobeMulti)
	}
	if len(offsets) != 0 && len(offsets) != n {
		return nil, fmt.Errorf("%d Offsets for %d probes", len(offsets), n)
	}
	out := make([]uint64, n)
	for i := range out {
		var off uint64
		if len(offsets) != 0 {
			off = offsets[i]
		}
		if len(addresses) != 0 {
			out[i] = addresses[i] + off
			continue
		}
		a, err := ex.address(symbols[i], 0, off)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// haveBPFLinkUprobeMulti: uprobe_multi links (6.6). A directory as the
// path gets EBADF from a kernel that has them, EINVAL from one without.
var haveBPFLinkUprobeMulti = internal.NewFeatureTest("uprobe_multi links", func() error {
	prog, err := loadProbeProgram(sys.BPF_PROG_TYPE_KPROBE, sys.BPF_TRACE_UPROBE_MULTI)
	if err != nil {
		return err
	}
	defer prog.Close()
	offsets := []uint64{0}
	fd, err := sys.LinkCreateUprobeMulti(&sys.LinkCreateUprobeMultiAttr{
		ProgFd:     prog.Uint(),
		AttachType: sys.BPF_TRACE_UPROBE_MULTI,
		Path:       sys.NewStringPointer("/"),
		Offsets:    sys.NewSlicePointer(offsets),
		Cnt:        1,
	})
	runtime.KeepAlive(offsets)
	if err == nil {
		fd.Close()
		return errors.New("uprobe_multi link on / succeeded")
	}
	return ebadfMeansSupported(err)
}, "6.6")
