package link

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// RawTracepointOptions are the arguments of AttachRawTracepoint.
type RawTracepointOptions struct {
	// Name of the tracepoint, without its group: "sys_enter",
	// "sched_switch".
	Name string
	// Program of type RawTracepoint or RawTracepointWritable.
	Program *ebpf.Program
}

// AttachRawTracepoint attaches a raw tracepoint program
// (BPF_RAW_TRACEPOINT_OPEN, Linux 4.17). Raw tracepoints get the
// tracepoint's arguments unprocessed and need no tracefs. An unknown
// tracepoint gives an error wrapping os.ErrNotExist.
//
// Since Linux 5.7 the result is a kernel link (pinnable, with Info); on
// older kernels it is a plain file descriptor that only Close supports.
// One bpf(2) call.
func AttachRawTracepoint(opts RawTracepointOptions) (Link, error) {
	if opts.Name == "" {
		return nil, errors.New("raw tracepoint: empty name")
	}
	if opts.Program == nil {
		return nil, fmt.Errorf("raw tracepoint %s: program is nil", opts.Name)
	}
	if t := opts.Program.Type(); t != ebpf.RawTracepoint && t != ebpf.RawTracepointWritable {
		return nil, fmt.Errorf("raw tracepoint %s: program %s has type %s, want RawTracepoint or RawTracepointWritable", opts.Name, opts.Program, t)
	}
	fd, err := rawTracepointOpen(opts.Name, opts.Program, 0)
	if err != nil {
		return nil, fmt.Errorf("raw tracepoint %s: %w", opts.Name, err)
	}
	if haveBPFLink() != nil {
		// Before 5.7 the descriptor is not a link.
		return &simpleRawTracepoint{fd}, nil
	}
	return &rawTracepoint{RawLink{fd: fd}}, nil
}

// rawTracepointOpen issues BPF_RAW_TRACEPOINT_OPEN. An empty name attaches
// a BTF-based program (tp_btf, fentry, fexit, fmod_ret, LSM, freplace) to
// the target it was loaded for (5.5).
func rawTracepointOpen(name string, prog *ebpf.Program, cookie uint64) (*sys.FD, error) {
	progFD, err := programFD(prog)
	if err != nil {
		return nil, err
	}
	attr := sys.RawTracepointOpenAttr{ProgFd: progFD, Cookie: cookie}
	if name != "" {
		attr.Name = sys.NewStringPointer(name)
	}
	fd, err := sys.RawTracepointOpen(&attr)
	runtime.KeepAlive(prog)
	if err != nil {
		return nil, fmt.Errorf("BPF_RAW_TRACEPOINT_OPEN: %w", err)
	}
	return fd, nil
}

// rawTracepoint is a BPF_LINK_TYPE_RAW_TRACEPOINT link: raw tracepoints
// and BTF tracepoints (tp_btf).
type rawTracepoint struct {
	RawLink
}

// Update is not supported by raw tracepoint links.
func (*rawTracepoint) Update(_ *ebpf.Program) error {
	return unsupported("update", "raw tracepoint")
}

// simpleRawTracepoint is the raw tracepoint descriptor of kernels before
// 5.7: not a link.
type simpleRawTracepoint struct {
	fd *sys.FD
}

func (*simpleRawTracepoint) isLink() {}

func (s *simpleRawTracepoint) Close() error { return s.fd.Close() }

func (*simpleRawTracepoint) Update(_ *ebpf.Program) error {
	return unsupported("update", "raw tracepoint (before Linux 5.7)")
}

func (*simpleRawTracepoint) Pin(string) error {
	return unsupported("pin", "raw tracepoint (before Linux 5.7)")
}

func (*simpleRawTracepoint) Unpin() error {
	return unsupported("unpin", "raw tracepoint (before Linux 5.7)")
}

func (*simpleRawTracepoint) Detach() error {
	return unsupported("detach", "raw tracepoint (before Linux 5.7)")
}

func (*simpleRawTracepoint) Info() (*Info, error) {
	return nil, unsupported("info of", "raw tracepoint (before Linux 5.7)")
}
