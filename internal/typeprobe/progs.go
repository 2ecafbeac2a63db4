package typeprobe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bpfkit/ebpf/internal/sys"
)

// ProgType says how to load a throwaway program of a type, and which
// kernel introduced the type.
type ProgType struct {
	// Version is the first kernel with the type.
	Version string
	// Attach is the expected attach type the type requires, and Flags
	// the program flags (a syscall program must be sleepable).
	Attach sys.AttachType
	Flags  uint32
	// NeedsTarget marks types whose programs need an attach target in
	// the kernel's BTF to load at all (tracing, LSM, extension): this
	// package has no probe for them.
	NeedsTarget bool
}

// ProgTypes returns the table of program types: how to load each and the
// kernel that introduced it. The caller must not modify it.
func ProgTypes() map[sys.ProgType]ProgType {
	return progTypes
}

// HaveProgType reports whether the kernel can load programs of type pt:
// nil, an error wrapping internal.ErrNotSupported that names the type
// ("program type netfilter", the kernel's and bpftool's name) and the first kernel with it (or says the
// kernel was built without it), or another error if the probe itself
// failed (not memoized). Types without a probe here, including those
// marked NeedsTarget, give ErrUnknown.
//
// The first call for a type loads a program returning 0 and closes it;
// later calls take a mutex.
func HaveProgType[T Named](pt T) error {
	p := progProbes[sys.ProgType(pt)]
	if p == nil {
		return fmt.Errorf("program type %s: %w", pt, ErrUnknown)
	}
	return p.result(ProgTypeName(sys.ProgType(pt)))
}

// ProgTypeName names pt as the kernel and bpftool do, for errors: "program
// type sched_cls" for BPF_PROG_TYPE_SCHED_CLS.
func ProgTypeName(pt sys.ProgType) string {
	return "program type " + strings.ToLower(strings.TrimPrefix(pt.String(), "BPF_PROG_TYPE_"))
}

var progTypes = map[sys.ProgType]ProgType{
	sys.BPF_PROG_TYPE_SOCKET_FILTER:           {Version: "3.19"},
	sys.BPF_PROG_TYPE_KPROBE:                  {Version: "4.1"},
	sys.BPF_PROG_TYPE_SCHED_CLS:               {Version: "4.1"},
	sys.BPF_PROG_TYPE_SCHED_ACT:               {Version: "4.1"},
	sys.BPF_PROG_TYPE_TRACEPOINT:              {Version: "4.7"},
	sys.BPF_PROG_TYPE_XDP:                     {Version: "4.8"},
	sys.BPF_PROG_TYPE_PERF_EVENT:              {Version: "4.9"},
	sys.BPF_PROG_TYPE_CGROUP_SKB:              {Version: "4.10"},
	sys.BPF_PROG_TYPE_CGROUP_SOCK:             {Version: "4.10"},
	sys.BPF_PROG_TYPE_LWT_IN:                  {Version: "4.10"},
	sys.BPF_PROG_TYPE_LWT_OUT:                 {Version: "4.10"},
	sys.BPF_PROG_TYPE_LWT_XMIT:                {Version: "4.10"},
	sys.BPF_PROG_TYPE_SOCK_OPS:                {Version: "4.13"},
	sys.BPF_PROG_TYPE_SK_SKB:                  {Version: "4.14"},
	sys.BPF_PROG_TYPE_CGROUP_DEVICE:           {Version: "4.15"},
	sys.BPF_PROG_TYPE_SK_MSG:                  {Version: "4.17"},
	sys.BPF_PROG_TYPE_RAW_TRACEPOINT:          {Version: "4.17"},
	sys.BPF_PROG_TYPE_CGROUP_SOCK_ADDR:        {Version: "4.17", Attach: sys.BPF_CGROUP_INET4_CONNECT},
	sys.BPF_PROG_TYPE_LWT_SEG6LOCAL:           {Version: "4.18"},
	sys.BPF_PROG_TYPE_LIRC_MODE2:              {Version: "4.18"},
	sys.BPF_PROG_TYPE_SK_REUSEPORT:            {Version: "4.19"},
	sys.BPF_PROG_TYPE_FLOW_DISSECTOR:          {Version: "4.20"},
	sys.BPF_PROG_TYPE_CGROUP_SYSCTL:           {Version: "5.2"},
	sys.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: {Version: "5.2"},
	sys.BPF_PROG_TYPE_CGROUP_SOCKOPT:          {Version: "5.3", Attach: sys.BPF_CGROUP_GETSOCKOPT},
	sys.BPF_PROG_TYPE_TRACING:                 {Version: "5.5", NeedsTarget: true},
	sys.BPF_PROG_TYPE_STRUCT_OPS:              {Version: "5.6"},
	sys.BPF_PROG_TYPE_EXT:                     {Version: "5.6", NeedsTarget: true},
	sys.BPF_PROG_TYPE_LSM:                     {Version: "5.7", NeedsTarget: true},
	sys.BPF_PROG_TYPE_SK_LOOKUP:               {Version: "5.9", Attach: sys.BPF_SK_LOOKUP},
	sys.BPF_PROG_TYPE_SYSCALL:                 {Version: "5.14", Flags: sys.BPF_F_SLEEPABLE},
	sys.BPF_PROG_TYPE_NETFILTER:               {Version: "6.4", Attach: sys.BPF_NETFILTER},
}

// progProbes memoizes the probes of the types of progTypes that need no
// attach target.
var progProbes = func() map[sys.ProgType]*probe {
	probes := make(map[sys.ProgType]*probe, len(progTypes))
	for pt, info := range progTypes {
		if info.NeedsTarget {
			continue
		}
		p := &probe{version: info.Version, fn: func() error {
			return LoadProgram(pt, info.Attach, info.Flags)
		}}
		if pt == sys.BPF_PROG_TYPE_STRUCT_OPS {
			p.fn = func() error {
				// Without a struct to implement, a kernel that knows
				// the type answers ENOTSUPP.
				err := LoadProgram(pt, 0, 0)
				if errors.Is(err, sys.ENOTSUPP) {
					return nil
				}
				return err
			}
		}
		probes[pt] = p
	}
	return probes
}()
