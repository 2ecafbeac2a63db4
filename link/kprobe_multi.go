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

// KprobeMultiOptions are the arguments of KprobeMulti and KretprobeMulti.
type KprobeMultiOptions struct {
	// Symbols are the kernel functions to probe. Give Symbols or
	// Addresses.
	Symbols []string
	// Addresses are the entry addresses of the functions to probe (for
	// functions without a unique name); fprobes attach to function
	// entries only.
	Addresses []uintptr
	// Cookies are returned by bpf_get_attach_cookie() in the program, one
	// per symbol or address.
	Cookies []uint64
	// Session runs the program at each function's entry and return with
	// one link (program attach type AttachTraceKprobeSession, Linux
	// 6.10): the entry run's return value decides whether the return run
	// happens, and both share a cookie.
	Session bool
}

// kprobeMultiLink is a BPF_LINK_TYPE_KPROBE_MULTI link (5.18).
type kprobeMultiLink struct {
	RawLink
}

// Update is not supported by kprobe_multi links.
func (*kprobeMultiLink) Update(_ *ebpf.Program) error {
	return unsupported("update", "kprobe_multi")
}

// KprobeMulti attaches prog (type Kprobe, attach type
// AttachTraceKprobeMulti) to the entries of several kernel functions with
// one link, through fprobe (Linux 5.18, CONFIG_FPROBE): much cheaper than
// one Kprobe each. An unknown symbol gives an error wrapping
// os.ErrNotExist; a kernel without kprobe_multi links one wrapping
// ErrNotSupported. One bpf(2) call.
func KprobeMulti(prog *ebpf.Program, opts KprobeMultiOptions) (Link, error) {
	return kprobeMulti(prog, opts, 0)
}

// KretprobeMulti attaches prog to the returns of several kernel functions,
// as KprobeMulti does to their entries.
func KretprobeMulti(prog *ebpf.Program, opts KprobeMultiOptions) (Link, error) {
	return kprobeMulti(prog, opts, sys.BPF_F_KPROBE_MULTI_RETURN)
}

func kprobeMulti(prog *ebpf.Program, opts KprobeMultiOptions, flags uint32) (Link, error) {
	what := "kprobe_multi"
	if flags != 0 {
		what = "kretprobe_multi"
	}
	if opts.Session {
		what = "kprobe_session"
	}
	if prog == nil {
		return nil, fmt.Errorf("%s: program is nil", what)
	}
	if prog.Type() != ebpf.Kprobe {
		return nil, fmt.Errorf("%s: program %s has type %s, want Kprobe", what, prog, prog.Type())
	}
	if opts.Session && flags != 0 {
		return nil, fmt.Errorf("%s: a session probes returns already: use KprobeMulti", what)
	}
	syms, addrs := len(opts.Symbols), len(opts.Addresses)
	if (syms == 0) == (addrs == 0) {
		return nil, fmt.Errorf("%s: give Symbols or Addresses (got %d and %d)", what, syms, addrs)
	}
	n := max(syms, addrs)
	if len(opts.Cookies) != 0 && len(opts.Cookies) != n {
		return nil, fmt.Errorf("%s: %d Cookies for %d functions", what, len(opts.Cookies), n)
	}
	attach := sys.BPF_TRACE_KPROBE_MULTI
	if opts.Session {
		attach = sys.BPF_TRACE_KPROBE_SESSION
	}
	progFD, err := programFD(prog)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	attr := sys.LinkCreateKprobeMultiAttr{
		ProgFd:           progFD,
		AttachType:       attach,
		KprobeMultiFlags: flags,
		Cnt:              uint32(n),
		Cookies:          sys.NewSlicePointer(opts.Cookies),
	}
	// The kernel reads addresses as unsigned longs: 64 bits on every
	// kernel with kprobe_multi.
	var addresses []uint64
	if syms != 0 {
		attr.Syms = sys.NewStringSlicePointer(opts.Symbols)
	} else {
		addresses = make([]uint64, addrs)
		for i, a := range opts.Addresses {
			addresses[i] = uint64(a)
		}
		attr.Addrs = sys.NewSlicePointer(addresses)
	}
	fd, err := sys.LinkCreateKprobeMulti(&attr)
	runtime.KeepAlive(prog)
	runtime.KeepAlive(addresses)
	runtime.KeepAlive(opts.Cookies)
	if err != nil {
		switch {
		case errors.Is(err, unix.ESRCH):
			err = fmt.Errorf("a symbol is not in kallsyms or not traceable: %w", unix.ENOENT)
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, sys.ENOTSUPP):
			probe := haveBPFLinkKprobeMulti
			if opts.Session {
				probe = haveBPFLinkKprobeSession
			}
			if perr := probe(); perr != nil {
				err = fmt.Errorf("%w (%w)", perr, err)
			}
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &kprobeMultiLink{RawLink{fd: fd}}, nil
}

// probeKprobeMulti asks for a kprobe_multi link on a symbol no kernel has:
// a kernel with fprobe-based links looks it up and answers ESRCH; one
// without them EINVAL (before 5.18) or EOPNOTSUPP (no CONFIG_FPROBE).
func probeKprobeMulti(attach sys.AttachType) error {
	prog, err := loadProbeProgram(sys.BPF_PROG_TYPE_KPROBE, attach)
	if err != nil {
		return err
	}
	defer prog.Close()
	fd, err := sys.LinkCreateKprobeMulti(&sys.LinkCreateKprobeMultiAttr{
		ProgFd:     prog.Uint(),
		AttachType: attach,
		Cnt:        1,
		Syms:       sys.NewStringSlicePointer([]string{"bpfkit_feature_probe_no_such_function"}),
	})
	switch {
	case errors.Is(err, unix.ESRCH):
		return nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, sys.ENOTSUPP):
		return ErrNotSupported
	case err == nil:
		fd.Close()
		return errors.New("kprobe_multi link on a missing symbol succeeded")
	}
	return err
}

var haveBPFLinkKprobeMulti = internal.NewFeatureTest("kprobe_multi links (CONFIG_FPROBE)", func() error {
	return probeKprobeMulti(sys.BPF_TRACE_KPROBE_MULTI)
}, "5.18")

var haveBPFLinkKprobeSession = internal.NewFeatureTest("kprobe session links", func() error {
	return probeKprobeMulti(sys.BPF_TRACE_KPROBE_SESSION)
}, "6.10")
