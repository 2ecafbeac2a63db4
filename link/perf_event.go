package link

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/tracefs"
)

// Words used below. A trace event is a hook the tracing subsystem
// exposes under tracefs: a static tracepoint, or a kprobe/uprobe event
// someone created by writing to kprobe_events/uprobe_events. A perf event
// (perf_event_open(2)) instantiates a trace event, a dynamic probe of the
// kprobe/uprobe PMU (no tracefs involved, private to its file descriptor),
// or a hardware/software counter. One BPF program attaches to a perf event,
// either through a bpf_link (5.15, cookies) or with the
// PERF_EVENT_IOC_SET_BPF ioctl; closing the perf event detaches it.

// perfEvent is an open perf event and, for probes made through tracefs, the
// trace event behind it, which must outlive it.
type perfEvent struct {
	fd    *sys.FD
	event *tracefs.Event // nil unless the probe was created in tracefs
}

// Close closes the perf event, then removes its trace event.
func (pe *perfEvent) Close() error {
	err := pe.fd.Close()
	if pe.event != nil {
		err = errors.Join(err, pe.event.Close())
	}
	return err
}

// openPerfEvent calls perf_event_open(2) and takes ownership of the new
// descriptor. A pid of -1 means every process, which the kernel allows
// only for one CPU: cpu 0 is used then (BPF programs on trace events run on
// every CPU regardless).
func openPerfEvent(attr *unix.PerfEventAttr, pid int) (*sys.FD, error) {
	attr.Size = uint32(unsafe.Sizeof(*attr))
	cpu := -1
	if pid == -1 {
		cpu = 0
	}
	raw, err := unix.PerfEventOpen(attr, pid, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return sys.NewFD(raw)
}

// openTracepointEvent opens a perf event of the trace event with ID id
// (a tracepoint, or a kprobe/uprobe made in tracefs) for process pid, or
// every process for -1.
func openTracepointEvent(id uint64, pid int) (*sys.FD, error) {
	attr := unix.PerfEventAttr{
		Type:        unix.PERF_TYPE_TRACEPOINT,
		Config:      id,
		Sample_type: unix.PERF_SAMPLE_RAW,
		Sample:      1,
		Wakeup:      1,
	}
	fd, err := openPerfEvent(&attr, pid)
	if err != nil {
		return nil, fmt.Errorf("open perf event of trace event %d: %w", id, err)
	}
	return fd, nil
}

// PerfEvent is a link that holds a perf event.
type PerfEvent interface {
	// PerfEvent returns a new *os.File for the link's perf event, for
	// reading counters or ioctl(2)s. The caller closes it; the link keeps
	// its own descriptor.
	PerfEvent() (*os.File, error)
}

// perfEventLink is a BPF_LINK_TYPE_PERF_EVENT link (5.15). Links made here
// own the perf event (and trace event) and release them on Close; a link
// from NewFromFD or LoadPinnedLink has none. A pinned link keeps its perf
// event in the kernel, and with it a tracefs probe event, which Close then
// leaves in place (its group names the process: bpfkit_<pid>_...).
type perfEventLink struct {
	RawLink
	pe *perfEvent
}

var _ PerfEvent = (*perfEventLink)(nil)

func (l *perfEventLink) Close() error {
	err := l.RawLink.Close()
	if l.pe != nil {
		if l.IsPinned() {
			// The pin keeps the perf event, and with it any trace event,
			// in use: only the descriptor can go.
			err = errors.Join(err, l.pe.fd.Close())
		} else {
			err = errors.Join(err, l.pe.Close())
		}
	}
	return err
}

// Update is not supported: the kernel can't change a perf event's program.
func (l *perfEventLink) Update(_ *ebpf.Program) error {
	return unsupported("update", "perf event")
}

func (l *perfEventLink) PerfEvent() (*os.File, error) {
	if l.pe == nil {
		return nil, errors.New("perf event link: the perf event is not known for a link opened by fd, id or pin")
	}
	return l.pe.fd.File("perf_event")
}

// perfEventIoctl is a program attached to a perf event with
// PERF_EVENT_IOC_SET_BPF, on kernels before 5.15. It is not a kernel link:
// it can't be pinned, updated, detached or described, and it lives as long
// as its perf event.
type perfEventIoctl struct {
	*perfEvent
}

var _ PerfEvent = (*perfEventIoctl)(nil)

func (*perfEventIoctl) isLink() {}

// Update is not supported: a perf event's program can't be replaced.
func (*perfEventIoctl) Update(_ *ebpf.Program) error {
	return unsupported("update", "perf event ioctl")
}

// Pin is not supported: only bpf_links can be pinned.
func (*perfEventIoctl) Pin(string) error { return unsupported("pin", "perf event ioctl") }

// Unpin is not supported: only bpf_links can be pinned.
func (*perfEventIoctl) Unpin() error { return unsupported("unpin", "perf event ioctl") }

// Detach is not supported: close the link instead.
func (*perfEventIoctl) Detach() error { return unsupported("detach", "perf event ioctl") }

// Info is not supported: the attachment is not a kernel link.
func (*perfEventIoctl) Info() (*Info, error) { return nil, unsupported("info of", "perf event ioctl") }

func (pi *perfEventIoctl) PerfEvent() (*os.File, error) {
	return pi.fd.File("perf_event")
}

// attachPerfEvent attaches prog to the perf event pe: with a bpf_link where
// the kernel has them, else with ioctls. It does not take ownership of pe
// on error; on success the returned link owns it.
func attachPerfEvent(pe *perfEvent, prog *ebpf.Program, cookie uint64) (Link, error) {
	progFD, err := programFD(prog)
	if err != nil {
		return nil, err
	}
	if err := haveBPFLinkPerfEvent(); err == nil {
		return attachPerfEventLink(pe, prog, progFD, cookie)
	} else if !errors.Is(err, ErrNotSupported) {
		return nil, err
	}
	if cookie != 0 {
		return nil, fmt.Errorf("cookie %#x: %w", cookie, &internal.UnsupportedFeatureError{Name: "bpf cookies for perf events", MinimumVersion: internal.Version{5, 15, 0}})
	}
	return attachPerfEventIoctl(pe, prog, progFD)
}

// attachPerfEventLink uses BPF_LINK_CREATE with BPF_PERF_EVENT (5.15).
func attachPerfEventLink(pe *perfEvent, prog *ebpf.Program, progFD uint32, cookie uint64) (*perfEventLink, error) {
	fd, err := sys.LinkCreatePerfEvent(&sys.LinkCreatePerfEventAttr{
		ProgFd:     progFD,
		TargetFd:   pe.fd.Uint(),
		AttachType: sys.BPF_PERF_EVENT,
		BpfCookie:  cookie,
	})
	runtime.KeepAlive(prog)
	runtime.KeepAlive(pe.fd)
	if err != nil {
		return nil, fmt.Errorf("create perf event link: %w", err)
	}
	return &perfEventLink{RawLink: RawLink{fd: fd}, pe: pe}, nil
}

// attachPerfEventIoctl sets the program with PERF_EVENT_IOC_SET_BPF and
// enables the event (4.1; before 4.15 a perf event takes one program).
func attachPerfEventIoctl(pe *perfEvent, prog *ebpf.Program, progFD uint32) (*perfEventIoctl, error) {
	err := unix.IoctlSetInt(pe.fd.Int(), unix.PERF_EVENT_IOC_SET_BPF, int(progFD))
	runtime.KeepAlive(prog)
	if err != nil {
		runtime.KeepAlive(pe.fd)
		return nil, fmt.Errorf("attach program with PERF_EVENT_IOC_SET_BPF: %w", err)
	}
	err = unix.IoctlSetInt(pe.fd.Int(), unix.PERF_EVENT_IOC_ENABLE, 0)
	runtime.KeepAlive(pe.fd)
	if err != nil {
		return nil, fmt.Errorf("enable perf event: %w", err)
	}
	return &perfEventIoctl{pe}, nil
}

// PerfEventOptions are the arguments of AttachPerfEvent.
type PerfEventOptions struct {
	// Program to run on the event's samples or hits: of type PerfEvent
	// for hardware and software events, Kprobe for probe events,
	// TracePoint for tracepoints.
	Program *ebpf.Program
	// Event is the file descriptor of an open perf event
	// (perf_event_open(2)). The link keeps a duplicate of it; the caller
	// keeps and closes its own.
	Event int
	// Cookie is returned by bpf_get_attach_cookie() in the program
	// (Linux 5.15).
	Cookie uint64
}

// AttachPerfEvent attaches a program to a perf event the caller opened, for
// example a software CPU clock sampling a process. Use Kprobe, Uprobe and
// Tracepoint for probes and trace events: they open the perf event too.
//
// It uses a bpf_link (Linux 5.15) and falls back to
// PERF_EVENT_IOC_SET_BPF on older kernels, where the result can't be
// pinned and Cookie must be 0. One fcntl(2) and one bpf(2) call (or two
// ioctl(2)s).
func AttachPerfEvent(opts PerfEventOptions) (Link, error) {
	if opts.Event < 0 {
		return nil, fmt.Errorf("attach perf event: invalid fd %d: %w", opts.Event, sys.ErrClosedFd)
	}
	dup, err := unix.FcntlInt(uintptr(opts.Event), unix.F_DUPFD_CLOEXEC, 1)
	if err != nil {
		return nil, fmt.Errorf("attach perf event: duplicate fd %d: %w", opts.Event, err)
	}
	fd, err := sys.NewFD(dup)
	if err != nil {
		return nil, fmt.Errorf("attach perf event: %w", err)
	}
	pe := &perfEvent{fd: fd}
	l, err := attachPerfEvent(pe, opts.Program, opts.Cookie)
	if err != nil {
		pe.Close()
		return nil, fmt.Errorf("attach perf event: %w", err)
	}
	return l, nil
}
