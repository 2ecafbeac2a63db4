package link

import (
	"fmt"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/tracefs"
)

// TracepointOptions are the optional arguments of Tracepoint.
type TracepointOptions struct {
	// Cookie is returned by bpf_get_attach_cookie() in the program
	// (Linux 5.15).
	Cookie uint64
}

// Tracepoint attaches prog, of type TracePoint, to the kernel tracepoint
// group/name, for example "syscalls"/"sys_enter_getpid" (the directory
// events/syscalls/sys_enter_getpid of tracefs). Kprobe and uprobe events
// that exist in tracefs are trace events too and can be attached here.
//
// It needs tracefs mounted (the tracepoint's ID is read from it): an
// unknown tracepoint or a missing tracefs give an error wrapping
// os.ErrNotExist. The program is attached with a perf event link (5.15),
// else with ioctls (4.7). Costs one file read, a perf_event_open(2) and a
// bpf(2) call.
func Tracepoint(group, name string, prog *ebpf.Program, opts *TracepointOptions) (Link, error) {
	if opts == nil {
		opts = &TracepointOptions{}
	}
	if group == "" || name == "" {
		return nil, fmt.Errorf("tracepoint %q/%q: group and name must not be empty", group, name)
	}
	if prog == nil {
		return nil, fmt.Errorf("tracepoint %s/%s: program is nil", group, name)
	}
	if prog.Type() != ebpf.TracePoint {
		return nil, fmt.Errorf("tracepoint %s/%s: program %s has type %s, want TracePoint", group, name, prog, prog.Type())
	}
	fd, err := tracepointEvent(group, name)
	if err != nil {
		return nil, err
	}
	pe := &perfEvent{fd: fd}
	l, err := attachPerfEvent(pe, prog, opts.Cookie)
	if err != nil {
		pe.Close()
		return nil, fmt.Errorf("tracepoint %s/%s: %w", group, name, err)
	}
	return l, nil
}

// tracepointEvent opens a perf event of the tracepoint group/name for every
// process.
func tracepointEvent(group, name string) (*sys.FD, error) {
	id, err := tracefs.EventID(group, name)
	if err != nil {
		return nil, fmt.Errorf("tracepoint %s/%s: %w", group, name, err)
	}
	fd, err := openTracepointEvent(id, -1)
	if err != nil {
		return nil, fmt.Errorf("tracepoint %s/%s: %w", group, name, err)
	}
	return fd, nil
}
