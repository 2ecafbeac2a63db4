package ebpf

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/pinning"
	"github.com/bpfkit/ebpf/internal/sys"
)

// ProgramID is the kernel's system-wide unique ID of a loaded program. It
// stays valid while the program exists; NewProgramFromID opens a program by
// it.
type ProgramID uint32

// Program is a program loaded into the kernel. It owns a file descriptor;
// Close releases it, and the kernel frees the program once nothing else
// (a link, a pin, a prog array) holds it.
//
// The methods of a Program may be called from several goroutines, but
// Close must not race with the others.
type Program struct {
	// VerifierLog holds the verifier's log of a successful load when
	// ProgramOptions asked for one (a non-zero LogLevel); otherwise it is
	// empty. A rejected program's log is in the returned *VerifierError.
	VerifierLog string

	fd   *sys.FD
	name string
	typ  ProgramType

	mu         sync.Mutex
	pinnedPath string
	handle     *btf.Handle // set by SetHandle
}

// NewProgram loads spec into the kernel with default options; see
// NewProgramWithOptions.
//
// A program the verifier rejects gives a *VerifierError with the whole log.
func NewProgram(spec *ProgramSpec) (*Program, error) {
	return NewProgramWithOptions(spec, ProgramOptions{})
}

// NewProgramWithOptions links spec and loads it into the kernel.
//
// Linking works on a copy of the instructions: it appends subprograms the
// program calls (each once), resolves calls, function pointers and maps
// (instructions must reference loaded maps, see asm.Instruction.AssociateMap),
// applies CO-RE relocations against the kernel's BTF (loaded once per
// process, lazily, and shared) or opts.KernelTypes, resolves kfuncs and
// .ksyms, and finds the BTF ID of the attach target of tracing, LSM,
// iterator and extension programs.
//
// The first load of a program of a kind the library has not seen runs a few
// memoized feature probes (small throwaway programs). Without a LogLevel,
// the program is loaded once without a log and, only if that fails, again
// with one, so a successful load costs one verifier run.
//
// A program the verifier rejects gives a *VerifierError carrying the whole
// log. A program type or attach type the kernel lacks gives an error
// wrapping ErrNotSupported that names it and the first kernel with it.
// Every error names the program.
func NewProgramWithOptions(spec *ProgramSpec, opts ProgramOptions) (*Program, error) {
	if spec == nil {
		return nil, errors.New("can't load a nil ProgramSpec")
	}
	return newProgramWithOptions(spec, opts, nil, nil)
}

// NewProgramFromFD makes a Program of the open program file descriptor fd,
// which it takes over: the caller must not use or close fd afterwards, even
// when an error is returned.
//
// It asks the kernel for the program's type and name (one bpf(2) call);
// requires Linux 4.13.
func NewProgramFromFD(fd int) (*Program, error) {
	f, err := sys.NewFD(fd)
	if err != nil {
		return nil, fmt.Errorf("program from fd %d: %w", fd, err)
	}
	return newProgramFromFD(f)
}

// NewProgramFromID opens the program with the given ID. A missing ID gives
// an error wrapping os.ErrNotExist (ENOENT).
//
// Two bpf(2) calls; requires Linux 4.13 and CAP_SYS_ADMIN.
func NewProgramFromID(id ProgramID) (*Program, error) {
	fd, err := sys.ProgGetFdById(&sys.ProgGetFdByIdAttr{ProgId: uint32(id)})
	if err != nil {
		return nil, fmt.Errorf("program with id %d: %w", id, err)
	}
	return newProgramFromFD(fd)
}

// newProgramFromFD wraps fd, reading its type and name from the kernel. It
// closes fd on error.
func newProgramFromFD(fd *sys.FD) (*Program, error) {
	if err := checkObjectKind(fd, "bpf-prog"); err != nil {
		fd.Close()
		return nil, err
	}
	var info sys.ProgInfo
	if err := sys.ObjInfo(fd, &info); err != nil {
		fd.Close()
		return nil, fmt.Errorf("program %s: get info: %w", fd, err)
	}
	return &Program{fd: fd, name: info.Name.String(), typ: ProgramType(info.Type)}, nil
}

// LoadPinnedProgram opens the program pinned at fileName on a bpffs; opts
// may ask for a read-only descriptor and may be nil. Nothing pinned there
// gives an error wrapping os.ErrNotExist; another kind of object is an
// error naming it.
//
// Requires Linux 4.11 (4.13 to learn the program's type and name).
func LoadPinnedProgram(fileName string, opts *LoadPinOptions) (*Program, error) {
	attr := sys.ObjGetAttr{Pathname: sys.NewStringPointer(fileName), FileFlags: opts.Marshal()}
	fd, err := sys.ObjGet(&attr)
	if err != nil {
		return nil, fmt.Errorf("load pinned program %s: %w", fileName, err)
	}
	prog, err := newProgramFromFD(fd)
	if err != nil {
		return nil, fmt.Errorf("load pinned program %s: %w", fileName, err)
	}
	prog.pinnedPath = fileName
	return prog, nil
}

// ProgramGetNextID returns the ID of the loaded program that follows
// startID, the smallest one for 0. At the end it returns an error wrapping
// os.ErrNotExist (ENOENT).
//
// One bpf(2) call; requires Linux 4.13 and CAP_SYS_ADMIN.
func ProgramGetNextID(startID ProgramID) (ProgramID, error) {
	attr := sys.ProgGetNextIdAttr{StartId: uint32(startID)}
	if err := sys.ProgGetNextId(&attr); err != nil {
		return 0, fmt.Errorf("next program id after %d: %w", startID, err)
	}
	return ProgramID(attr.NextId), nil
}

// FD returns the program's file descriptor, or -1 once it is closed. The
// descriptor stays owned by the Program.
func (p *Program) FD() int {
	if p == nil || p.fd == nil {
		return -1
	}
	return p.fd.Int()
}

// Type returns the program's type.
func (p *Program) Type() ProgramType { return p.typ }

// String describes the program for messages: "XDP(xdp_count)#fd 7".
func (p *Program) String() string {
	if p.name != "" {
		return fmt.Sprintf("%s(%s)#%v", p.typ, p.name, p.fd)
	}
	return fmt.Sprintf("%s(%v)", p.typ, p.fd)
}

// Clone returns a new Program for the same kernel program, with its own
// file descriptor (one fcntl(2) call): closing one does not affect the
// other. The clone is not pinned. Cloning nil returns nil.
func (p *Program) Clone() (*Program, error) {
	if p == nil {
		return nil, nil
	}
	dup, err := p.fd.Dup()
	if err != nil {
		return nil, fmt.Errorf("clone program %q: %w", p.name, err)
	}
	return &Program{VerifierLog: p.VerifierLog, fd: dup, name: p.name, typ: p.typ}, nil
}

// Close releases the program's file descriptor (and the BTF handle given
// to SetHandle). The kernel unloads the program unless a pin, a link or a
// map still holds it. Closing twice is harmless.
func (p *Program) Close() error {
	if p == nil || p.fd == nil {
		return nil
	}
	p.mu.Lock()
	h := p.handle
	p.handle = nil
	p.mu.Unlock()
	return errors.Join(p.fd.Close(), h.Close())
}

// BindMap makes the program hold a reference to m, as if it used it: the
// map lives as long as the program, and shows among its map IDs. Useful
// for metadata that user space reads. One bpf(2) call; requires Linux
// 5.10.
func (p *Program) BindMap(m *Map) error {
	if m == nil {
		return fmt.Errorf("bind map to program %q: nil map", p.name)
	}
	attr := sys.ProgBindMapAttr{ProgFd: p.fd.Uint(), MapFd: m.fd.Uint()}
	err := sys.ProgBindMap(&attr)
	runtime.KeepAlive(p)
	runtime.KeepAlive(m)
	if errors.Is(err, unix.EINVAL) && !kernelAtLeast("5.10") {
		err = &internal.UnsupportedFeatureError{Name: "BPF_PROG_BIND_MAP", MinimumVersion: internal.Version{5, 10}}
	}
	if err != nil {
		return fmt.Errorf("bind map %s to program %q: %w", m, p.name, err)
	}
	return nil
}

// Handle returns a handle of the program's BTF, which the caller closes:
// a copy of the one given to SetHandle, or else one opened by the BTF's ID
// (two bpf(2) calls, CAP_SYS_ADMIN). A program without BTF gives an error
// wrapping ErrNotSupported. Requires Linux 5.0.
func (p *Program) Handle() (*btf.Handle, error) {
	p.mu.Lock()
	h := p.handle
	p.mu.Unlock()
	if h != nil {
		return h.Clone()
	}

	info, err := p.Info()
	if err != nil {
		return nil, err
	}
	id, ok := info.BTFID()
	if !ok {
		return nil, fmt.Errorf("BTF of program %q: %w", p.name, ErrNotSupported)
	}
	h, err = btf.NewHandleFromID(id)
	if err != nil {
		return nil, fmt.Errorf("BTF of program %q: %w", p.name, err)
	}
	return h, nil
}

// SetHandle gives the program a handle of its BTF for Handle to return
// without asking the kernel, useful for programs from NewProgramFromFD or
// LoadPinnedProgram when the caller lacks CAP_SYS_ADMIN. The program keeps
// a copy (one fcntl(2)); the caller still closes h. Loading a program
// doesn't set one: its BTF stays reachable by ID.
func (p *Program) SetHandle(h *btf.Handle) error {
	if h == nil {
		return fmt.Errorf("set BTF handle of program %q: nil handle", p.name)
	}
	cpy, err := h.Clone()
	if err != nil {
		return fmt.Errorf("set BTF handle of program %q: %w", p.name, err)
	}
	p.mu.Lock()
	old := p.handle
	p.handle = cpy
	p.mu.Unlock()
	return old.Close()
}

// Pin makes the program outlive this process by pinning it at fileName on
// a BPF file system (bpffs, usually mounted at /sys/fs/bpf). A program
// pinned before moves to fileName (both paths must be on the same bpffs);
// fileName must not exist yet. Pinning to the current path does nothing.
//
// Requires Linux 4.4.
func (p *Program) Pin(fileName string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	path, err := pinning.Pin(p.pinnedPath, fileName, p.fd)
	p.pinnedPath = path
	if err != nil {
		return fmt.Errorf("pin program %q: %w", p.name, err)
	}
	return nil
}

// Unpin removes the program's pin. A program that is not pinned is left
// alone. When removing the pin fails, IsPinned stays true.
func (p *Program) Unpin() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := pinning.Unpin(p.pinnedPath); err != nil {
		return fmt.Errorf("unpin program %q: %w", p.name, err)
	}
	p.pinnedPath = ""
	return nil
}

// IsPinned reports whether Pin (or LoadPinnedProgram) gave the program a
// path that Unpin has not removed.
func (p *Program) IsPinned() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pinnedPath != ""
}
