package link

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// Info is what the kernel reports about a link. The details of the link's
// type are behind the method named after it (Cgroup, XDP, PerfEvent, ...),
// which returns nil for a link of another type.
type Info struct {
	Type    Type
	ID      ID
	Program ebpf.ProgramID
	extra   any
}

// TracingInfo describes a tracing link (fentry, fexit, fmod_ret, LSM,
// freplace).
type TracingInfo struct {
	AttachType ebpf.AttachType
	// TargetObjectId is the ID of the program (freplace) or BTF object
	// (module or vmlinux) holding the traced function.
	TargetObjectId uint32
	// TargetBtfId is the traced function in that object's BTF.
	TargetBtfId btf.TypeID
}

// CgroupInfo describes a cgroup link.
type CgroupInfo struct {
	CgroupId   uint64
	AttachType ebpf.AttachType
}

// NetNsInfo describes a network namespace link (sk_lookup, flow
// dissector).
type NetNsInfo struct {
	NetnsInode uint32
	AttachType ebpf.AttachType
}

// TCXInfo describes a tcx link.
type TCXInfo struct {
	Ifindex    uint32
	AttachType ebpf.AttachType
}

// XDPInfo describes an XDP link.
type XDPInfo struct {
	Ifindex uint32
}

// NetfilterInfo describes a netfilter link.
type NetfilterInfo struct {
	ProtocolFamily NetfilterProtocolFamily
	Hook           NetfilterInetHook
	Priority       int32
	Flags          uint32
}

// NetkitInfo describes a netkit link.
type NetkitInfo struct {
	Ifindex    uint32
	AttachType ebpf.AttachType
}

// RawTracepointInfo describes a raw tracepoint link, including the BTF
// tracepoints (tp_btf) of tracing programs.
type RawTracepointInfo struct {
	Name string
}

// IterInfo describes an iterator link.
type IterInfo struct {
	// Target is the kind of iterator ("task", "bpf_map", ...).
	Target string
	// MapID is the iterated map of map element iterators, else 0.
	MapID uint32
}

// StructOpsInfo describes a struct_ops link.
type StructOpsInfo struct {
	MapID uint32
}

// SockmapInfo describes a sockmap link.
type SockmapInfo struct {
	MapID      uint32
	AttachType ebpf.AttachType
}

// KprobeMultiInfo describes a kprobe_multi link.
type KprobeMultiInfo struct {
	// Count is the number of probed functions.
	Count uint32
	// Flags of the link: BPF_F_KPROBE_MULTI_RETURN for return probes.
	Flags uint32
	// Missed counts runs skipped because of recursion (Linux 6.7).
	Missed  uint64
	addrs   []uint64
	cookies []uint64
}

// KprobeMultiAddress is one probed function of a kprobe_multi link.
type KprobeMultiAddress struct {
	Address uint64
	Cookie  uint64
}

// Addresses returns the probed functions' addresses and cookies, and false
// when the kernel did not report them (before Linux 6.6; addresses are zero
// when kernel.kptr_restrict hides them).
func (kpm *KprobeMultiInfo) Addresses() ([]KprobeMultiAddress, bool) {
	if kpm.addrs == nil {
		return nil, false
	}
	out := make([]KprobeMultiAddress, len(kpm.addrs))
	for i, a := range kpm.addrs {
		out[i].Address = a
		if i < len(kpm.cookies) {
			out[i].Cookie = kpm.cookies[i]
		}
	}
	return out, true
}

// UprobeMultiInfo describes an uprobe_multi link.
type UprobeMultiInfo struct {
	// Count is the number of probes.
	Count uint32
	// Flags of the link: BPF_F_UPROBE_MULTI_RETURN for return probes.
	Flags uint32
	// Missed is not reported by the kernel for uprobes and stays 0.
	Missed        uint64
	offsets       []uint64
	cookies       []uint64
	refCtrOffsets []uint64
	// File is the probed binary's path.
	File string
	pid  uint32
}

// UprobeMultiOffset is one probe of an uprobe_multi link.
type UprobeMultiOffset struct {
	// Offset of the probed instruction in File.
	Offset uint64
	// Cookie of the probe.
	Cookie uint64
	// ReferenceCount is the offset of the probe's reference counter
	// (semaphore) in File, or 0.
	ReferenceCount uint64
}

// Offsets returns the probes, and false when the kernel did not report
// them (before Linux 6.8).
func (umi *UprobeMultiInfo) Offsets() ([]UprobeMultiOffset, bool) {
	if umi.offsets == nil {
		return nil, false
	}
	out := make([]UprobeMultiOffset, len(umi.offsets))
	for i, off := range umi.offsets {
		out[i].Offset = off
		if i < len(umi.cookies) {
			out[i].Cookie = umi.cookies[i]
		}
		if i < len(umi.refCtrOffsets) {
			out[i].ReferenceCount = umi.refCtrOffsets[i]
		}
	}
	return out, true
}

// Pid returns the process the probes are limited to, and false for
// system-wide probes.
func (umi *UprobeMultiInfo) Pid() (uint32, bool) {
	return umi.pid, umi.pid != 0
}

// Kinds of perf event links, PerfEventInfo.Type.
const (
	PerfEventUnspecified = sys.BPF_PERF_EVENT_UNSPEC
	PerfEventUprobe      = sys.BPF_PERF_EVENT_UPROBE
	PerfEventUretprobe   = sys.BPF_PERF_EVENT_URETPROBE
	PerfEventKprobe      = sys.BPF_PERF_EVENT_KPROBE
	PerfEventKretprobe   = sys.BPF_PERF_EVENT_KRETPROBE
	PerfEventTracepoint  = sys.BPF_PERF_EVENT_TRACEPOINT
	PerfEventEvent       = sys.BPF_PERF_EVENT_EVENT
)

// PerfEventInfo describes a perf event link (kprobe, uprobe, tracepoint or
// other perf event; Linux 6.6 reports the details).
type PerfEventInfo struct {
	Type  sys.PerfEventType
	extra any
}

// Kprobe returns the details of a kprobe or kretprobe, else nil.
func (r *PerfEventInfo) Kprobe() *KprobeInfo {
	e, _ := r.extra.(*KprobeInfo)
	return e
}

// Uprobe returns the details of a uprobe or uretprobe, else nil.
func (r *PerfEventInfo) Uprobe() *UprobeInfo {
	e, _ := r.extra.(*UprobeInfo)
	return e
}

// Tracepoint returns the details of a tracepoint, else nil.
func (r *PerfEventInfo) Tracepoint() *TracepointInfo {
	e, _ := r.extra.(*TracepointInfo)
	return e
}

// Event returns the details of another perf event, else nil.
func (r *PerfEventInfo) Event() *EventInfo {
	e, _ := r.extra.(*EventInfo)
	return e
}

// KprobeInfo describes a kprobe perf event.
type KprobeInfo struct {
	// Address of the probe; zero when kernel.kptr_restrict hides it.
	Address uint64
	// Missed counts runs skipped because of recursion (Linux 6.7).
	Missed uint64
	// Function is the probed symbol.
	Function string
	// Offset of the probe in Function.
	Offset uint32
}

// UprobeInfo describes a uprobe perf event.
type UprobeInfo struct {
	// File is the probed binary's path.
	File string
	// Offset of the probed instruction in File.
	Offset uint32
	// Cookie of the link (Linux 6.10 reports it).
	Cookie uint64
	// OffsetReferenceCount is the offset of the reference counter
	// (semaphore) in File, or 0.
	OffsetReferenceCount uint64
}

// TracepointInfo describes a tracepoint perf event.
type TracepointInfo struct {
	// Tracepoint is the event's name without its group.
	Tracepoint string
	Cookie     uint64
}

// EventInfo describes a perf event that is not a probe or tracepoint.
type EventInfo struct {
	Config uint64
	Type   uint32
	Cookie uint64
}

// Tracing returns the details of a tracing link, else nil.
func (r Info) Tracing() *TracingInfo {
	e, _ := r.extra.(*TracingInfo)
	return e
}

// Cgroup returns the details of a cgroup link, else nil.
func (r Info) Cgroup() *CgroupInfo {
	e, _ := r.extra.(*CgroupInfo)
	return e
}

// NetNs returns the details of a network namespace link, else nil.
func (r Info) NetNs() *NetNsInfo {
	e, _ := r.extra.(*NetNsInfo)
	return e
}

// XDP returns the details of an XDP link, else nil.
func (r Info) XDP() *XDPInfo {
	e, _ := r.extra.(*XDPInfo)
	return e
}

// TCX returns the details of a tcx link, else nil.
func (r Info) TCX() *TCXInfo {
	e, _ := r.extra.(*TCXInfo)
	return e
}

// Netfilter returns the details of a netfilter link, else nil.
func (r Info) Netfilter() *NetfilterInfo {
	e, _ := r.extra.(*NetfilterInfo)
	return e
}

// Netkit returns the details of a netkit link, else nil.
func (r Info) Netkit() *NetkitInfo {
	e, _ := r.extra.(*NetkitInfo)
	return e
}

// KprobeMulti returns the details of a kprobe_multi link, else nil.
func (r Info) KprobeMulti() *KprobeMultiInfo {
	e, _ := r.extra.(*KprobeMultiInfo)
	return e
}

// UprobeMulti returns the details of an uprobe_multi link, else nil.
func (r Info) UprobeMulti() *UprobeMultiInfo {
	e, _ := r.extra.(*UprobeMultiInfo)
	return e
}

// PerfEvent returns the details of a perf event link, else nil.
func (r Info) PerfEvent() *PerfEventInfo {
	e, _ := r.extra.(*PerfEventInfo)
	return e
}

// RawTracepoint returns the details of a raw tracepoint link, else nil.
func (r Info) RawTracepoint() *RawTracepointInfo {
	e, _ := r.extra.(*RawTracepointInfo)
	return e
}

// Iter returns the details of an iterator link, else nil.
func (r Info) Iter() *IterInfo {
	e, _ := r.extra.(*IterInfo)
	return e
}

// StructOps returns the details of a struct_ops link, else nil.
func (r Info) StructOps() *StructOpsInfo {
	e, _ := r.extra.(*StructOpsInfo)
	return e
}

// Sockmap returns the details of a sockmap link, else nil.
func (r Info) Sockmap() *SockmapInfo {
	e, _ := r.extra.(*SockmapInfo)
	return e
}

// Bounds on what linkInfo allocates for the kernel to fill.
const (
	maxInfoName    = 4096    // PATH_MAX: file names, symbols, tracepoints
	maxInfoEntries = 1 << 20 // addresses of a multi-probe link
)

// linkInfo asks the kernel about the link fd: one bpf(2) call for the
// common part and the fixed-size details, and for names and address lists
// one more with buffers of the size the first reported.
func linkInfo(fd *sys.FD) (*Info, error) {
	var common sys.LinkInfo
	if err := sys.ObjInfo(fd, &common); err != nil {
		return nil, fmt.Errorf("link info: %w", infoError(err))
	}
	info := &Info{Type: common.Type, ID: ID(common.Id), Program: ebpf.ProgramID(common.ProgId)}

	var err error
	switch common.Type {
	case TracingType:
		var t sys.TracingLinkInfo
		if err = sys.ObjInfo(fd, &t); err == nil {
			info.extra = &TracingInfo{
				AttachType:     ebpf.AttachType(t.AttachType),
				TargetObjectId: t.TargetObjId,
				TargetBtfId:    btf.TypeID(t.TargetBtfId),
			}
		}
	case CgroupType:
		var c sys.CgroupLinkInfo
		if err = sys.ObjInfo(fd, &c); err == nil {
			info.extra = &CgroupInfo{CgroupId: c.CgroupId, AttachType: ebpf.AttachType(c.AttachType)}
		}
	case NetNsType:
		var n sys.NetNsLinkInfo
		if err = sys.ObjInfo(fd, &n); err == nil {
			info.extra = &NetNsInfo{NetnsInode: n.NetnsIno, AttachType: ebpf.AttachType(n.AttachType)}
		}
	case XDPType:
		var x sys.XdpLinkInfo
		if err = sys.ObjInfo(fd, &x); err == nil {
			info.extra = &XDPInfo{Ifindex: x.Ifindex}
		}
	case TCXType:
		var t sys.TcxLinkInfo
		if err = sys.ObjInfo(fd, &t); err == nil {
			info.extra = &TCXInfo{Ifindex: t.Ifindex, AttachType: ebpf.AttachType(t.AttachType)}
		}
	case NetkitType:
		var n sys.NetkitLinkInfo
		if err = sys.ObjInfo(fd, &n); err == nil {
			info.extra = &NetkitInfo{Ifindex: n.Ifindex, AttachType: ebpf.AttachType(n.AttachType)}
		}
	case NetfilterType:
		var n sys.NetfilterLinkInfo
		if err = sys.ObjInfo(fd, &n); err == nil {
			info.extra = &NetfilterInfo{
				ProtocolFamily: NetfilterProtocolFamily(n.Pf),
				Hook:           NetfilterInetHook(n.Hooknum),
				Priority:       n.Priority,
				Flags:          n.Flags,
			}
		}
	case StructOpsType:
		var s sys.StructOpsLinkInfo
		if err = sys.ObjInfo(fd, &s); err == nil {
			info.extra = &StructOpsInfo{MapID: s.MapId}
		}
	case SockmapType:
		var s sys.SockmapLinkInfo
		if err = sys.ObjInfo(fd, &s); err == nil {
			info.extra = &SockmapInfo{MapID: s.MapId, AttachType: ebpf.AttachType(s.AttachType)}
		}
	case RawTracepointType:
		info.extra, err = rawTracepointInfo(fd)
	case IterType:
		info.extra, err = iterInfo(fd)
	case KprobeMultiType:
		info.extra, err = kprobeMultiInfo(fd)
	case UprobeMultiType:
		info.extra, err = uprobeMultiInfo(fd)
	case PerfEventType:
		info.extra, err = perfEventInfo(fd)
	}
	if err != nil {
		return nil, fmt.Errorf("%s link info: %w", common.Type, infoError(err))
	}
	return info, nil
}

// infoError names the missing feature when the kernel can't describe
// links.
func infoError(err error) error {
	if errors.Is(err, unix.EINVAL) {
		if perr := haveLinkInfo(); perr != nil {
			return fmt.Errorf("%w (%w)", perr, err)
		}
	}
	return err
}

// cString returns the bytes up to the first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// boundedName checks a name length the kernel reported before it is
// allocated.
func boundedName(n uint32) (uint32, error) {
	if n > maxInfoName {
		return 0, fmt.Errorf("kernel reports a %d-byte name, more than %d", n, maxInfoName)
	}
	return n, nil
}

func rawTracepointInfo(fd *sys.FD) (*RawTracepointInfo, error) {
	// The first call reports the name's length (with its NUL).
	var r sys.RawTracepointLinkInfo
	if err := sys.ObjInfo(fd, &r); err != nil {
		return nil, err
	}
	n, err := boundedName(r.TpNameLen)
	if err != nil || n == 0 {
		return &RawTracepointInfo{}, err
	}
	buf := make([]byte, n)
	r = sys.RawTracepointLinkInfo{TpName: sys.NewSlicePointer(buf), TpNameLen: n}
	err = sys.ObjInfo(fd, &r)
	runtime.KeepAlive(buf)
	if err != nil {
		return nil, err
	}
	return &RawTracepointInfo{Name: cString(buf)}, nil
}

func iterInfo(fd *sys.FD) (*IterInfo, error) {
	var it sys.IterLinkInfo
	if err := sys.ObjInfo(fd, &it); err != nil {
		return nil, err
	}
	n, err := boundedName(it.TargetNameLen)
	if err != nil || n == 0 {
		return &IterInfo{MapID: it.MapId}, err
	}
	buf := make([]byte, n)
	it = sys.IterLinkInfo{TargetName: sys.NewSlicePointer(buf), TargetNameLen: n}
	err = sys.ObjInfo(fd, &it)
	runtime.KeepAlive(buf)
	if err != nil {
		return nil, err
	}
	return &IterInfo{Target: cString(buf), MapID: it.MapId}, nil
}

func kprobeMultiInfo(fd *sys.FD) (*KprobeMultiInfo, error) {
	var k sys.KprobeMultiLinkInfo
	if err := sys.ObjInfo(fd, &k); err != nil {
		return nil, err
	}
	out := &KprobeMultiInfo{Count: k.Count, Flags: k.Flags, Missed: k.Missed}
	if k.Count == 0 {
		// Kernels before 6.6 report nothing but the common part.
		return out, nil
	}
	if k.Count > maxInfoEntries {
		return nil, fmt.Errorf("kernel reports %d probed functions, more than %d", k.Count, maxInfoEntries)
	}
	addrs := make([]uint64, k.Count)
	cookies := make([]uint64, k.Count)
	k = sys.KprobeMultiLinkInfo{
		Addrs:   sys.NewSlicePointer(addrs),
		Cookies: sys.NewSlicePointer(cookies),
		Count:   uint32(len(addrs)),
	}
	err := sys.ObjInfo(fd, &k)
	runtime.KeepAlive(addrs)
	runtime.KeepAlive(cookies)
	if err != nil {
		return nil, err
	}
	n := min(int(k.Count), len(addrs))
	out.addrs, out.cookies = addrs[:n], cookies[:n]
	return out, nil
}

func uprobeMultiInfo(fd *sys.FD) (*UprobeMultiInfo, error) {
	var u sys.UprobeMultiLinkInfo
	if err := sys.ObjInfo(fd, &u); err != nil {
		return nil, err
	}
	out := &UprobeMultiInfo{Count: u.Count, Flags: u.Flags, pid: u.Pid}
	if u.Count == 0 {
		// Kernels before 6.8 report nothing but the common part.
		return out, nil
	}
	if u.Count > maxInfoEntries {
		return nil, fmt.Errorf("kernel reports %d probes, more than %d", u.Count, maxInfoEntries)
	}
	offsets := make([]uint64, u.Count)
	cookies := make([]uint64, u.Count)
	refs := make([]uint64, u.Count)
	path := make([]byte, maxInfoName)
	u = sys.UprobeMultiLinkInfo{
		Path:          sys.NewSlicePointer(path),
		PathSize:      uint32(len(path)),
		Offsets:       sys.NewSlicePointer(offsets),
		RefCtrOffsets: sys.NewSlicePointer(refs),
		Cookies:       sys.NewSlicePointer(cookies),
		Count:         uint32(len(offsets)),
	}
	err := sys.ObjInfo(fd, &u)
	runtime.KeepAlive(offsets)
	runtime.KeepAlive(cookies)
	runtime.KeepAlive(refs)
	runtime.KeepAlive(path)
	if err != nil {
		return nil, err
	}
	n := min(int(u.Count), len(offsets))
	out.offsets, out.cookies, out.refCtrOffsets = offsets[:n], cookies[:n], refs[:n]
	out.File = cString(path)
	return out, nil
}

func perfEventInfo(fd *sys.FD) (*PerfEventInfo, error) {
	var p sys.PerfEventLinkInfo
	if err := sys.ObjInfo(fd, &p); err != nil {
		return nil, err
	}
	out := &PerfEventInfo{Type: p.PerfEventType}
	// The kernel copies names into the caller's buffer without reporting
	// their length first: give it room for the longest.
	name := make([]byte, maxInfoName)
	defer runtime.KeepAlive(name)
	switch p.PerfEventType {
	case PerfEventKprobe, PerfEventKretprobe:
		k := sys.KprobeLinkInfo{FuncName: sys.NewSlicePointer(name), NameLen: uint32(len(name))}
		if err := sys.ObjInfo(fd, &k); err != nil {
			return nil, err
		}
		out.extra = &KprobeInfo{Address: k.Addr, Missed: k.Missed, Function: cString(name), Offset: k.Offset}
	case PerfEventUprobe, PerfEventUretprobe:
		u := sys.UprobeLinkInfo{FileName: sys.NewSlicePointer(name), NameLen: uint32(len(name))}
		if err := sys.ObjInfo(fd, &u); err != nil {
			return nil, err
		}
		out.extra = &UprobeInfo{File: cString(name), Offset: u.Offset, Cookie: u.Cookie, OffsetReferenceCount: u.RefCtrOffset}
	case PerfEventTracepoint:
		t := sys.TracepointLinkInfo{TpName: sys.NewSlicePointer(name), NameLen: uint32(len(name))}
		if err := sys.ObjInfo(fd, &t); err != nil {
			return nil, err
		}
		out.extra = &TracepointInfo{Tracepoint: cString(name), Cookie: t.Cookie}
	case PerfEventEvent:
		var e sys.EventLinkInfo
		if err := sys.ObjInfo(fd, &e); err != nil {
			return nil, err
		}
		out.extra = &EventInfo{Config: e.Config, Type: e.EventType, Cookie: e.Cookie}
	}
	return out, nil
}

// Each link type answers Info with the kernel's description of it; the
// details are behind the Info method named after the type.

func (l *kprobeMultiLink) Info() (*Info, error) { return l.RawLink.Info() }
func (l *linkCgroup) Info() (*Info, error)      { return l.RawLink.Info() }
func (l *netfilterLink) Info() (*Info, error)   { return l.RawLink.Info() }
func (l *netkitLink) Info() (*Info, error)      { return l.RawLink.Info() }
func (l *perfEventLink) Info() (*Info, error)   { return l.RawLink.Info() }
func (l *rawTracepoint) Info() (*Info, error)   { return l.RawLink.Info() }
func (l *tcxLink) Info() (*Info, error)         { return l.RawLink.Info() }
func (l *tracing) Info() (*Info, error)         { return l.RawLink.Info() }
func (l *uprobeMultiLink) Info() (*Info, error) { return l.RawLink.Info() }
func (l *xdpLink) Info() (*Info, error)         { return l.RawLink.Info() }
