package link

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// CgroupOptions are the arguments of AttachCgroup.
type CgroupOptions struct {
	// Path of a cgroup v2 directory.
	Path string
	// Attach is one of the AttachCGroup*/AttachCgroup* attach types.
	Attach ebpf.AttachType
	// Program of a cgroup program type whose attach type is Attach.
	Program *ebpf.Program
}

// AttachCgroup attaches a program to a cgroup v2 hook; it runs for the
// cgroup and its descendants.
//
// It creates a cgroup link (BPF_LINK_CREATE, Linux 5.7). On older kernels
// it falls back to BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI (4.15; other
// programs on the hook keep running) or, before that, BPF_F_ALLOW_OVERRIDE
// (programs of descendants replace this one). The fallback holds the
// cgroup open, detaches on Close, supports Update (atomically with
// BPF_F_REPLACE, 5.6) but not pinning, Detach or Info.
//
// Costs an open(2) of the cgroup directory and one bpf(2) call.
func AttachCgroup(opts CgroupOptions) (cg Link, err error) {
	if _, err := programFD(opts.Program); err != nil {
		return nil, fmt.Errorf("attach cgroup %s: %w", opts.Path, err)
	}
	cgroup, err := os.Open(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("attach cgroup: %w", err)
	}

	l, err := newLinkCgroup(cgroup, opts.Attach, opts.Program)
	if err == nil {
		cgroup.Close()
		return l, nil
	}
	if !errors.Is(err, ErrNotSupported) {
		cgroup.Close()
		return nil, fmt.Errorf("attach cgroup %s: %w", opts.Path, err)
	}

	// Before 5.7: the legacy attachment, which keeps cgroup open.
	pa, err := attachCgroupLegacy(cgroup, opts.Attach, opts.Program)
	if err != nil {
		cgroup.Close()
		return nil, fmt.Errorf("attach cgroup %s: %w", opts.Path, err)
	}
	return pa, nil
}

// attachCgroupLegacy attaches with BPF_PROG_ATTACH in multi mode, or in
// override mode on kernels before 4.15, where a hook holds one program. On
// success the result owns cgroup.
func attachCgroupLegacy(cgroup *os.File, attach ebpf.AttachType, prog *ebpf.Program) (*progAttachCgroup, error) {
	pa, err := newProgAttachCgroup(cgroup, attach, prog, sys.BPF_F_ALLOW_MULTI)
	if errors.Is(err, unix.EINVAL) {
		pa, err = newProgAttachCgroup(cgroup, attach, prog, sys.BPF_F_ALLOW_OVERRIDE)
	}
	return pa, err
}

// linkCgroup is a BPF_LINK_TYPE_CGROUP link (5.7).
type linkCgroup struct {
	RawLink
}

// newLinkCgroup creates a cgroup link; ErrNotSupported means the kernel has
// no bpf_link.
func newLinkCgroup(cgroup *os.File, attach ebpf.AttachType, prog *ebpf.Program) (*linkCgroup, error) {
	progFD, err := programFD(prog)
	if err != nil {
		return nil, err
	}
	fd, err := sys.LinkCreateCgroup(&sys.LinkCreateCgroupAttr{
		ProgFd:     progFD,
		TargetFd:   uint32(cgroup.Fd()),
		AttachType: sys.AttachType(attach),
	})
	runtime.KeepAlive(prog)
	runtime.KeepAlive(cgroup)
	if err != nil {
		return nil, fmt.Errorf("create %s link: %w", attach, linkCreateError(err))
	}
	return &linkCgroup{RawLink{fd: fd}}, nil
}

// progAttachCgroup is a program attached with BPF_PROG_ATTACH, emulating a
// link on kernels before 5.7.
type progAttachCgroup struct {
	cgroup *os.File
	prog   *sys.FD // our own descriptor of the attached program
	attach ebpf.AttachType
	flags  uint32 // BPF_F_ALLOW_MULTI or BPF_F_ALLOW_OVERRIDE
}

var _ Link = (*progAttachCgroup)(nil)

// newProgAttachCgroup attaches prog with flags. It does not take ownership
// of cgroup on error.
func newProgAttachCgroup(cgroup *os.File, attach ebpf.AttachType, prog *ebpf.Program, flags uint32) (*progAttachCgroup, error) {
	fd, err := dupProgram(prog)
	if err != nil {
		return nil, err
	}
	err = sys.ProgAttach(&sys.ProgAttachAttr{
		TargetFd:    uint32(cgroup.Fd()),
		AttachBpfFd: fd.Uint(),
		AttachType:  sys.AttachType(attach),
		AttachFlags: flags,
	})
	runtime.KeepAlive(cgroup)
	runtime.KeepAlive(fd)
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("attach %s with BPF_PROG_ATTACH: %w", attach, err)
	}
	return &progAttachCgroup{cgroup: cgroup, prog: fd, attach: attach, flags: flags}, nil
}

func (*progAttachCgroup) isLink() {}

// Close detaches the program and releases the cgroup.
func (pa *progAttachCgroup) Close() error {
	if pa.prog.Int() < 0 {
		return nil
	}
	err := sys.ProgDetach(&sys.ProgDetachAttr{
		TargetFd:    uint32(pa.cgroup.Fd()),
		AttachBpfFd: pa.prog.Uint(),
		AttachType:  sys.AttachType(pa.attach),
	})
	runtime.KeepAlive(pa.prog)
	if err != nil {
		err = fmt.Errorf("detach %s program: %w", pa.attach, err)
	}
	return errors.Join(err, pa.prog.Close(), pa.cgroup.Close())
}

// Update replaces the program: atomically with BPF_F_REPLACE (5.6) in
// multi mode, otherwise by attaching new (which replaces a single program,
// or runs beside the old one until it is detached right after).
func (pa *progAttachCgroup) Update(prog *ebpf.Program) error {
	fd, err := dupProgram(prog)
	if err != nil {
		return fmt.Errorf("update %s program: %w", pa.attach, err)
	}
	attr := sys.ProgAttachAttr{
		TargetFd:    uint32(pa.cgroup.Fd()),
		AttachBpfFd: fd.Uint(),
		AttachType:  sys.AttachType(pa.attach),
		AttachFlags: pa.flags,
	}
	replaced := false
	if pa.flags&sys.BPF_F_ALLOW_MULTI != 0 {
		attr.AttachFlags |= sys.BPF_F_REPLACE
		attr.ReplaceBpfFd = pa.prog.Uint()
		err = sys.ProgAttach(&attr)
		if errors.Is(err, unix.EINVAL) {
			// No BPF_F_REPLACE before 5.6: attach beside, detach below.
			attr.AttachFlags, attr.ReplaceBpfFd = pa.flags, 0
			err = sys.ProgAttach(&attr)
		} else {
			replaced = err == nil
		}
	} else {
		err = sys.ProgAttach(&attr)
		replaced = err == nil
	}
	runtime.KeepAlive(pa.cgroup)
	if err != nil {
		fd.Close()
		return fmt.Errorf("update %s program: %w", pa.attach, err)
	}
	old := pa.prog
	pa.prog = fd
	if !replaced {
		err = sys.ProgDetach(&sys.ProgDetachAttr{
			TargetFd:    uint32(pa.cgroup.Fd()),
			AttachBpfFd: old.Uint(),
			AttachType:  sys.AttachType(pa.attach),
		})
		runtime.KeepAlive(old)
		runtime.KeepAlive(pa.cgroup)
		if err != nil {
			err = fmt.Errorf("update %s program: detach the old one: %w", pa.attach, err)
		}
	}
	return errors.Join(err, old.Close())
}

// Pin is not supported: BPF_PROG_ATTACH attachments are not links.
func (*progAttachCgroup) Pin(string) error {
	return unsupported("pin", "cgroup BPF_PROG_ATTACH (before Linux 5.7)")
}

// Unpin is not supported: BPF_PROG_ATTACH attachments are not links.
func (*progAttachCgroup) Unpin() error {
	return unsupported("unpin", "cgroup BPF_PROG_ATTACH (before Linux 5.7)")
}

// Detach is not supported: use Close.
func (*progAttachCgroup) Detach() error {
	return unsupported("detach", "cgroup BPF_PROG_ATTACH (before Linux 5.7)")
}

// Info is not supported: BPF_PROG_ATTACH attachments are not links.
func (*progAttachCgroup) Info() (*Info, error) {
	return nil, unsupported("info of", "cgroup BPF_PROG_ATTACH (before Linux 5.7)")
}
