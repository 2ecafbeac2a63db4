package link

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// IterOptions are the arguments of AttachIter.
type IterOptions struct {
	// Program of type Tracing with attach type AttachTraceIter; the kind
	// of iterator was chosen at load (ProgramSpec.AttachTo "task",
	// "bpf_map", "bpf_map_elem", ...), which needs the kernel's BTF.
	Program *ebpf.Program
	// Map is the map whose elements a bpf_map_elem or sockmap iterator
	// walks; nil for other iterators.
	Map *ebpf.Map
}

// AttachIter binds an iterator program to what it walks
// (BPF_LINK_CREATE with BPF_TRACE_ITER, Linux 5.8); Open on the result
// runs it. One bpf(2) call.
func AttachIter(opts IterOptions) (*Iter, error) {
	if opts.Program == nil {
		return nil, errors.New("attach iterator: program is nil")
	}
	if t := opts.Program.Type(); t != ebpf.Tracing {
		return nil, fmt.Errorf("attach iterator: program %s has type %s, want Tracing", opts.Program, t)
	}
	progFD, err := programFD(opts.Program)
	if err != nil {
		return nil, fmt.Errorf("attach iterator: %w", err)
	}
	attr := sys.LinkCreateIterAttr{ProgFd: progFD, AttachType: sys.BPF_TRACE_ITER}
	// union bpf_iter_link_info starts with map.map_fd; other iterators
	// take no info.
	var info [1]uint32
	if opts.Map != nil {
		fd := opts.Map.FD()
		if fd < 0 {
			return nil, fmt.Errorf("attach iterator %s: map %s: %w", opts.Program, opts.Map, sys.ErrClosedFd)
		}
		info[0] = uint32(fd)
		attr.IterInfo = sys.NewSlicePointer(info[:])
		attr.IterInfoLen = uint32(len(info) * 4)
	}
	fd, err := sys.LinkCreateIter(&attr)
	runtime.KeepAlive(opts.Program)
	runtime.KeepAlive(opts.Map)
	runtime.KeepAlive(&info)
	if err != nil {
		return nil, fmt.Errorf("attach iterator %s: %w", opts.Program, linkCreateError(err))
	}
	return &Iter{RawLink{fd: fd}}, nil
}

// Iter is a BPF iterator link (BPF_LINK_TYPE_ITER, Linux 5.8): an iterator
// program bound to what it walks (tasks, maps, the elements of one map,
// ...). Each Open starts a walk.
type Iter struct {
	RawLink
}

// Open starts a walk of the iterator (BPF_ITER_CREATE) and returns its
// output: reading runs the program over the objects and returns what it
// wrote with bpf_seq_printf/bpf_seq_write, then io.EOF. Walks are
// independent; close each. One bpf(2) call.
func (it *Iter) Open() (io.ReadCloser, error) {
	fd, err := sys.IterCreate(&sys.IterCreateAttr{LinkFd: it.fd.Uint()})
	runtime.KeepAlive(it.fd)
	if err != nil {
		return nil, fmt.Errorf("open iterator: %w", err)
	}
	// The descriptor is a seq_file, not a BPF object: it goes to an
	// os.File (which closes it), not to a sys.FD.
	return os.NewFile(uintptr(fd.Disown()), "bpf_iter"), nil
}
