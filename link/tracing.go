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

// tracing is a BPF_LINK_TYPE_TRACING link: fentry, fexit, fmod_ret, LSM and
// freplace programs.
type tracing struct {
	RawLink
}

// Update is not supported: trampolines can't swap their program.
func (*tracing) Update(_ *ebpf.Program) error {
	return unsupported("update", "tracing")
}

// TracingOptions are the arguments of AttachTracing.
type TracingOptions struct {
	// Program of type Tracing, loaded with attach type
	// AttachTraceFEntry, AttachTraceFExit, AttachModifyReturn or
	// AttachTraceRawTp and a target (ProgramSpec.AttachTo).
	Program *ebpf.Program
	// AttachType is the program's attach type. It may be left zero
	// unless Cookie is set.
	AttachType ebpf.AttachType
	// Cookie is returned by bpf_get_attach_cookie() in the program
	// (fentry/fexit/fmod_ret Linux 5.19, tp_btf 6.10).
	Cookie uint64
}

// LSMOptions are the arguments of AttachLSM.
type LSMOptions struct {
	// Program of type LSM with attach type AttachLSMMac.
	Program *ebpf.Program
	// Cookie is returned by bpf_get_attach_cookie() in the program
	// (Linux 5.19).
	Cookie uint64
}

// AttachTracing attaches a BTF-based tracing program (fentry, fexit,
// fmod_ret, tp_btf) to the kernel function or tracepoint it was loaded
// for. Iterators use AttachIter.
//
// Without a cookie it uses BPF_RAW_TRACEPOINT_OPEN (Linux 5.5), with one
// BPF_LINK_CREATE. One bpf(2) call, and one more to learn the link's type
// when opts.AttachType is zero.
func AttachTracing(opts TracingOptions) (Link, error) {
	if opts.Program == nil {
		return nil, errors.New("attach tracing: program is nil")
	}
	if t := opts.Program.Type(); t != ebpf.Tracing {
		return nil, fmt.Errorf("attach tracing: program %s has type %s, want Tracing", opts.Program, t)
	}
	switch opts.AttachType {
	case ebpf.AttachNone, ebpf.AttachTraceFEntry, ebpf.AttachTraceFExit, ebpf.AttachModifyReturn, ebpf.AttachTraceRawTp:
	case ebpf.AttachTraceIter:
		return nil, fmt.Errorf("attach tracing: program %s is an iterator: use AttachIter", opts.Program)
	default:
		return nil, fmt.Errorf("attach tracing: program %s: attach type %s is not fentry, fexit, fmod_ret or tp_btf", opts.Program, opts.AttachType)
	}
	if opts.Cookie != 0 && opts.AttachType == ebpf.AttachNone {
		return nil, fmt.Errorf("attach tracing: program %s: a Cookie needs the AttachType", opts.Program)
	}
	l, err := attachBTF(opts.Program, opts.AttachType, opts.Cookie)
	if err != nil {
		return nil, fmt.Errorf("attach tracing: program %s: %w", opts.Program, err)
	}
	return l, nil
}

// AttachLSM attaches an LSM program (attach type AttachLSMMac) to the LSM
// hook it was loaded for (Linux 5.7; BPF must be in the kernel's lsm=
// list). One bpf(2) call.
func AttachLSM(opts LSMOptions) (Link, error) {
	if opts.Program == nil {
		return nil, errors.New("attach LSM: program is nil")
	}
	if t := opts.Program.Type(); t != ebpf.LSM {
		return nil, fmt.Errorf("attach LSM: program %s has type %s, want LSM", opts.Program, t)
	}
	l, err := attachBTF(opts.Program, ebpf.AttachLSMMac, opts.Cookie)
	if err != nil {
		return nil, fmt.Errorf("attach LSM: program %s: %w", opts.Program, err)
	}
	return l, nil
}

// attachBTF attaches a program to the BTF target it was loaded with.
func attachBTF(prog *ebpf.Program, attach ebpf.AttachType, cookie uint64) (Link, error) {
	var fd *sys.FD
	var err error
	switch {
	case cookie == 0:
		fd, err = rawTracepointOpen("", prog, 0)
	case attach == ebpf.AttachTraceRawTp:
		fd, err = rawTracepointOpen("", prog, cookie)
		if errors.Is(err, unix.EINVAL) {
			if verr := olderThan("cookies for BTF tracepoints", internal.Version{6, 10, 0}); verr != nil {
				err = fmt.Errorf("%w (%w)", verr, err)
			}
		}
	default:
		fd, err = linkCreateTracing(prog, 0, 0, attach, cookie)
		if errors.Is(err, unix.EINVAL) {
			if verr := olderThan("cookies for tracing links", internal.Version{5, 19, 0}); verr != nil {
				err = fmt.Errorf("%w (%w)", verr, err)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if haveBPFLink() != nil {
		return &simpleRawTracepoint{fd}, nil
	}
	switch attach {
	case ebpf.AttachTraceRawTp:
		return &rawTracepoint{RawLink{fd: fd}}, nil
	case ebpf.AttachNone:
		return wrapRawLink(&RawLink{fd: fd})
	}
	return &tracing{RawLink{fd: fd}}, nil
}

// linkCreateTracing creates a tracing link with BPF_LINK_CREATE.
func linkCreateTracing(prog *ebpf.Program, targetFD, btfID uint32, attach ebpf.AttachType, cookie uint64) (*sys.FD, error) {
	progFD, err := programFD(prog)
	if err != nil {
		return nil, err
	}
	fd, err := sys.LinkCreateTracing(&sys.LinkCreateTracingAttr{
		ProgFd:      progFD,
		TargetFd:    targetFD,
		AttachType:  sys.AttachType(attach),
		TargetBtfId: btfID,
		Cookie:      cookie,
	})
	runtime.KeepAlive(prog)
	if err != nil {
		return nil, fmt.Errorf("create tracing link: %w", linkCreateError(err))
	}
	return fd, nil
}

// AttachFreplace attaches an extension program (type Extension) in place of
// the global function name of targetProg. With a nil targetProg (and an
// empty name) it replaces the function the program was loaded for
// (ProgramSpec.AttachTarget and AttachTo).
//
// Replacing a function of another program than the one given at load
// needs BPF_LINK_CREATE (Linux 5.10) and reads targetProg's BTF to find the
// function (a few bpf(2) calls and the BTF's size in memory); the
// load-time target needs one BPF_RAW_TRACEPOINT_OPEN (5.6).
func AttachFreplace(targetProg *ebpf.Program, name string, prog *ebpf.Program) (Link, error) {
	if prog == nil {
		return nil, errors.New("attach freplace: program is nil")
	}
	if t := prog.Type(); t != ebpf.Extension {
		return nil, fmt.Errorf("attach freplace: program %s has type %s, want Extension", prog, t)
	}
	if targetProg == nil {
		if name != "" {
			return nil, fmt.Errorf("attach freplace: program %s: function %q given without a target program", prog, name)
		}
		fd, err := rawTracepointOpen("", prog, 0)
		if err != nil {
			return nil, fmt.Errorf("attach freplace: program %s: %w", prog, err)
		}
		return &tracing{RawLink{fd: fd}}, nil
	}
	if name == "" {
		return nil, fmt.Errorf("attach freplace: program %s: target %s given without a function name", prog, targetProg)
	}
	targetFD, err := programFD(targetProg)
	if err != nil {
		return nil, fmt.Errorf("attach freplace: target %w", err)
	}
	btfID, err := programFuncID(targetProg, name)
	if err != nil {
		return nil, fmt.Errorf("attach freplace: program %s: target %s: %w", prog, targetProg, err)
	}
	fd, err := linkCreateTracing(prog, targetFD, uint32(btfID), ebpf.AttachNone, 0)
	runtime.KeepAlive(targetProg)
	if err != nil {
		return nil, fmt.Errorf("attach freplace: program %s: replace %s of %s: %w", prog, name, targetProg, err)
	}
	return &tracing{RawLink{fd: fd}}, nil
}
