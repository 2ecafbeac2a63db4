package features

import (
	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/typeprobe"
)

// HaveMapType reports whether the kernel can create maps of type mt; see
// the package documentation for what the error means. The probe creates
// the smallest map of the type the kernel accepts (one bpf(2) call, and a
// close) the first time. The probes and their answers are shared with the
// root package (internal/typeprobe), which uses them to explain failed
// loads: a type is probed at most once per process.
//
// The error for ebpf.UnspecifiedMap and values the library doesn't know
// does not wrap ebpf.ErrNotSupported.
func HaveMapType(mt ebpf.MapType) error {
	return typeprobe.HaveMapType(mt)
}

// MapFlags are the flags of map creation that HaveMapFlag can probe.
type MapFlags uint32

// The map flags HaveMapFlag knows (from include/uapi/linux/bpf.h).
const (
	// BPF_F_NO_PREALLOC: allocate hash map elements on update (4.6).
	BPF_F_NO_PREALLOC = sys.BPF_F_NO_PREALLOC
	// BPF_F_RDONLY_PROG: programs may only read the map (5.2).
	BPF_F_RDONLY_PROG = sys.BPF_F_RDONLY_PROG
	// BPF_F_WRONLY_PROG: programs may only write the map (5.2).
	BPF_F_WRONLY_PROG = sys.BPF_F_WRONLY_PROG
	// BPF_F_MMAPABLE: user space may mmap an array map (5.5).
	BPF_F_MMAPABLE = sys.BPF_F_MMAPABLE
	// BPF_F_INNER_MAP: an inner map whose size may differ from the
	// template's (5.10).
	BPF_F_INNER_MAP = sys.BPF_F_INNER_MAP
)

// HaveMapFlag reports whether the kernel accepts flag when creating a map;
// see the package documentation for what the error means ("map flag
// BPF_F_MMAPABLE (memory-mapped arrays) not supported (requires >= v5.5)").
// flag must be one of the constants of this package, else the error does
// not wrap ebpf.ErrNotSupported. The probes and their answers are shared
// with the root package (internal/typeprobe), which uses them to explain
// failed map creations: one bpf(2) call per flag and process.
func HaveMapFlag(flag MapFlags) (err error) {
	return typeprobe.HaveMapFlag(uint32(flag))
}
