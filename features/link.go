package features

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// HaveBPFLinkKprobeMulti reports whether kprobe_multi links (one link
// attaching a program to many kernel functions, Linux 5.18) work; see the
// package documentation for what the error means. They need a kernel
// built with CONFIG_FPROBE. The probe loads a kprobe program and attaches
// it to vprintk for a moment, the first time.
func HaveBPFLinkKprobeMulti() error {
	return haveBPFLinkKprobeMulti()
}

var haveBPFLinkKprobeMulti = internal.NewFeatureTest("kprobe_multi link", func() error {
	return probeKprobeMulti(ebpf.AttachTraceKprobeMulti)
}, "5.18")

// HaveBPFLinkKprobeSession reports whether kprobe session links (a
// kprobe_multi program run on both entry and return, Linux 6.10) work;
// see the package documentation for what the error means. They need
// CONFIG_FPROBE. The probe attaches a program to vprintk for a moment, the
// first time.
func HaveBPFLinkKprobeSession() error {
	return haveBPFLinkKprobeSession()
}

var haveBPFLinkKprobeSession = internal.NewFeatureTest("kprobe session link", func() error {
	return probeKprobeMulti(ebpf.AttachTraceKprobeSession)
}, "6.10")

// probeKprobeMulti loads a kprobe program for attach and links it to
// vprintk. A kernel that doesn't know the attach type refuses the program
// (EINVAL, or E2BIG for the attribute).
func probeKprobeMulti(attach ebpf.AttachType) error {
	prog, err := loadSpec(&ebpf.ProgramSpec{
		Type: ebpf.Kprobe, AttachType: attach, Instructions: returnZero, License: "GPL",
	})
	if err != nil {
		return err
	}
	defer prog.Close()

	fd, err := sys.LinkCreateKprobeMulti(&sys.LinkCreateKprobeMultiAttr{
		ProgFd:     uint32(prog.FD()),
		AttachType: sys.AttachType(attach),
		Cnt:        1,
		Syms:       sys.NewStringSlicePointer([]string{"vprintk"}),
	})
	switch {
	case err == nil:
		return fd.Close()
	case errors.Is(err, unix.EINVAL):
		// The kernel doesn't know the link type.
		return ebpf.ErrNotSupported
	case errors.Is(err, unix.EOPNOTSUPP):
		// It does, but was built without CONFIG_FPROBE.
		return &internal.UnsupportedFeatureError{Name: fmt.Sprintf("%s link (a kernel built with CONFIG_FPROBE)", linkName(attach))}
	}
	return err
}

func linkName(attach ebpf.AttachType) string {
	if attach == ebpf.AttachTraceKprobeSession {
		return "kprobe session"
	}
	return "kprobe_multi"
}

// HaveBPFLinkUprobeMulti reports whether uprobe_multi links (one link
// attaching a program to many user space locations, Linux 6.6) work; see
// the package documentation for what the error means. The probe loads a
// program and attempts a link on a directory, which a kernel with the
// link type refuses with EBADF, the first time.
func HaveBPFLinkUprobeMulti() error {
	return haveBPFLinkUprobeMulti()
}

var haveBPFLinkUprobeMulti = internal.NewFeatureTest("uprobe_multi link", func() error {
	prog, err := loadSpec(&ebpf.ProgramSpec{
		Type: ebpf.Kprobe, AttachType: ebpf.AttachTraceUprobeMulti, Instructions: returnZero, License: "GPL",
	})
	if err != nil {
		return err
	}
	defer prog.Close()

	offsets := []uint64{0}
	fd, err := sys.LinkCreateUprobeMulti(&sys.LinkCreateUprobeMultiAttr{
		ProgFd:     uint32(prog.FD()),
		AttachType: sys.BPF_TRACE_UPROBE_MULTI,
		Path:       sys.NewStringPointer("/"),
		Offsets:    sys.NewSlicePointer(offsets),
		Cnt:        1,
	})
	switch {
	case errors.Is(err, unix.EBADF):
		return nil
	case errors.Is(err, unix.EINVAL):
		return ebpf.ErrNotSupported
	case err != nil:
		return err
	}
	fd.Close()
	return errors.New("the kernel attached a uprobe_multi link to the directory /")
}, "6.6")
