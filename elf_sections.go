package ebpf

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Section names tell the loader the type of a program, the attach type it
// is loaded with and, after a '/', what it attaches to. The table follows
// libbpf's section_defs (libbpf 1.6, Linux 6.18), in libbpf's order: the
// first entry that matches wins.
//
// A pattern ending in '+' matches the name itself or the name followed by
// "/target"; the target becomes ProgramSpec.AttachTo. Any other pattern
// matches every section name it prefixes, like libbpf did before 1.0 and
// like cilium/ebpf still does ("xdp_prog" is an XDP program), and has no
// target. A leading '?' (libbpf's "don't load by default" mark) is ignored.

// secFlags are properties of a section pattern beyond types.
type secFlags uint8

const (
	// secSleepable programs are loaded with BPF_F_SLEEPABLE.
	secSleepable secFlags = 1 << iota
	// secFrags XDP programs are loaded with BPF_F_XDP_HAS_FRAGS.
	secFrags
	// secNoTarget drops the "/target" part: libbpf ignores it for
	// struct_ops, whose target comes from the .struct_ops map instead.
	secNoTarget
)

type sectionDef struct {
	pattern    string
	progType   ProgramType
	attachType AttachType
	flags      secFlags
}

var sectionDefs = [...]sectionDef{
	{"socket", SocketFilter, AttachNone, 0},
	{"sk_reuseport/migrate", SkReuseport, AttachSkReuseportSelectOrMigrate, 0},
	{"sk_reuseport", SkReuseport, AttachSkReuseportSelect, 0},
	{"kprobe+", Kprobe, AttachNone, 0},
	{"uprobe+", Kprobe, AttachNone, 0},
	{"uprobe.s+", Kprobe, AttachNone, secSleepable},
	{"kretprobe+", Kprobe, AttachNone, 0},
	{"uretprobe+", Kprobe, AttachNone, 0},
	{"uretprobe.s+", Kprobe, AttachNone, secSleepable},
	{"kprobe.multi+", Kprobe, AttachTraceKprobeMulti, 0},
	{"kretprobe.multi+", Kprobe, AttachTraceKprobeMulti, 0},
	{"kprobe.session+", Kprobe, AttachTraceKprobeSession, 0},
	{"uprobe.multi+", Kprobe, AttachTraceUprobeMulti, 0},
	{"uretprobe.multi+", Kprobe, AttachTraceUprobeMulti, 0},
	{"uprobe.session+", Kprobe, AttachTraceUprobeSession, 0},
	{"uprobe.multi.s+", Kprobe, AttachTraceUprobeMulti, secSleepable},
	{"uretprobe.multi.s+", Kprobe, AttachTraceUprobeMulti, secSleepable},
	{"uprobe.session.s+", Kprobe, AttachTraceUprobeSession, secSleepable},
	{"ksyscall+", Kprobe, AttachNone, 0},
	{"kretsyscall+", Kprobe, AttachNone, 0},
	{"usdt+", Kprobe, AttachNone, 0},
	{"usdt.s+", Kprobe, AttachNone, secSleepable},
	{"tc/ingress", SchedCLS, AttachTCXIngress, 0},
	{"tc/egress", SchedCLS, AttachTCXEgress, 0},
	{"tcx/ingress", SchedCLS, AttachTCXIngress, 0},
	{"tcx/egress", SchedCLS, AttachTCXEgress, 0},
	{"tc", SchedCLS, AttachNone, 0},
	{"classifier", SchedCLS, AttachNone, 0},
	{"action", SchedACT, AttachNone, 0},
	{"netkit/primary", SchedCLS, AttachNetkitPrimary, 0},
	{"netkit/peer", SchedCLS, AttachNetkitPeer, 0},
	{"tracepoint+", TracePoint, AttachNone, 0},
	{"tp+", TracePoint, AttachNone, 0},
	{"raw_tracepoint+", RawTracepoint, AttachNone, 0},
	{"raw_tp+", RawTracepoint, AttachNone, 0},
	{"raw_tracepoint.w+", RawTracepointWritable, AttachNone, 0},
	{"raw_tp.w+", RawTracepointWritable, AttachNone, 0},
	{"tp_btf+", Tracing, AttachTraceRawTp, 0},
	{"fentry+", Tracing, AttachTraceFEntry, 0},
	{"fmod_ret+", Tracing, AttachModifyReturn, 0},
	{"fexit+", Tracing, AttachTraceFExit, 0},
	{"fentry.s+", Tracing, AttachTraceFEntry, secSleepable},
	{"fmod_ret.s+", Tracing, AttachModifyReturn, secSleepable},
	{"fexit.s+", Tracing, AttachTraceFExit, secSleepable},
	{"freplace+", Extension, AttachNone, 0},
	{"lsm+", LSM, AttachLSMMac, 0},
	{"lsm.s+", LSM, AttachLSMMac, secSleepable},
	{"lsm_cgroup+", LSM, AttachLSMCgroup, 0},
	{"iter+", Tracing, AttachTraceIter, 0},
	{"iter.s+", Tracing, AttachTraceIter, secSleepable},
	{"syscall", Syscall, AttachNone, secSleepable},
	{"xdp.frags/devmap", XDP, AttachXDPDevMap, secFrags},
	{"xdp/devmap", XDP, AttachXDPDevMap, 0},
	{"xdp.frags/cpumap", XDP, AttachXDPCPUMap, secFrags},
	{"xdp/cpumap", XDP, AttachXDPCPUMap, 0},
	{"xdp.frags", XDP, AttachXDP, secFrags},
	{"xdp", XDP, AttachXDP, 0},
	{"perf_event", PerfEvent, AttachNone, 0},
	{"lwt_in", LWTIn, AttachNone, 0},
	{"lwt_out", LWTOut, AttachNone, 0},
	{"lwt_xmit", LWTXmit, AttachNone, 0},
	{"lwt_seg6local", LWTSeg6Local, AttachNone, 0},
	{"sockops", SockOps, AttachCGroupSockOps, 0},
	{"sk_skb/stream_parser", SkSKB, AttachSkSKBStreamParser, 0},
	{"sk_skb/stream_verdict", SkSKB, AttachSkSKBStreamVerdict, 0},
	{"sk_skb/verdict", SkSKB, AttachSkSKBVerdict, 0},
	{"sk_skb", SkSKB, AttachNone, 0},
	{"sk_msg", SkMsg, AttachSkMsgVerdict, 0},
	{"lirc_mode2", LircMode2, AttachLircMode2, 0},
	{"flow_dissector", FlowDissector, AttachFlowDissector, 0},
	{"cgroup_skb/ingress", CGroupSKB, AttachCGroupInetIngress, 0},
	{"cgroup_skb/egress", CGroupSKB, AttachCGroupInetEgress, 0},
	{"cgroup/skb", CGroupSKB, AttachNone, 0},
	{"cgroup/sock_create", CGroupSock, AttachCGroupInetSockCreate, 0},
	{"cgroup/sock_release", CGroupSock, AttachCgroupInetSockRelease, 0},
	{"cgroup/sock", CGroupSock, AttachCGroupInetSockCreate, 0},
	{"cgroup/post_bind4", CGroupSock, AttachCGroupInet4PostBind, 0},
	{"cgroup/post_bind6", CGroupSock, AttachCGroupInet6PostBind, 0},
	{"cgroup/bind4", CGroupSockAddr, AttachCGroupInet4Bind, 0},
	{"cgroup/bind6", CGroupSockAddr, AttachCGroupInet6Bind, 0},
	{"cgroup/connect4", CGroupSockAddr, AttachCGroupInet4Connect, 0},
	{"cgroup/connect6", CGroupSockAddr, AttachCGroupInet6Connect, 0},
	{"cgroup/connect_unix", CGroupSockAddr, AttachCgroupUnixConnect, 0},
	{"cgroup/sendmsg4", CGroupSockAddr, AttachCGroupUDP4Sendmsg, 0},
	{"cgroup/sendmsg6", CGroupSockAddr, AttachCGroupUDP6Sendmsg, 0},
	{"cgroup/sendmsg_unix", CGroupSockAddr, AttachCgroupUnixSendmsg, 0},
	{"cgroup/recvmsg4", CGroupSockAddr, AttachCGroupUDP4Recvmsg, 0},
	{"cgroup/recvmsg6", CGroupSockAddr, AttachCGroupUDP6Recvmsg, 0},
	{"cgroup/recvmsg_unix", CGroupSockAddr, AttachCgroupUnixRecvmsg, 0},
	{"cgroup/getpeername4", CGroupSockAddr, AttachCgroupInet4GetPeername, 0},
	{"cgroup/getpeername6", CGroupSockAddr, AttachCgroupInet6GetPeername, 0},
	{"cgroup/getpeername_unix", CGroupSockAddr, AttachCgroupUnixGetpeername, 0},
	{"cgroup/getsockname4", CGroupSockAddr, AttachCgroupInet4GetSockname, 0},
	{"cgroup/getsockname6", CGroupSockAddr, AttachCgroupInet6GetSockname, 0},
	{"cgroup/getsockname_unix", CGroupSockAddr, AttachCgroupUnixGetsockname, 0},
	{"cgroup/sysctl", CGroupSysctl, AttachCGroupSysctl, 0},
	{"cgroup/getsockopt", CGroupSockopt, AttachCGroupGetsockopt, 0},
	{"cgroup/setsockopt", CGroupSockopt, AttachCGroupSetsockopt, 0},
	{"cgroup/dev", CGroupDevice, AttachCGroupDevice, 0},
	{"struct_ops+", StructOps, AttachNone, secNoTarget},
	{"struct_ops.s+", StructOps, AttachNone, secSleepable | secNoTarget},
	{"sk_lookup", SkLookup, AttachSkLookup, 0},
	{"netfilter", Netfilter, AttachNetfilter, 0},
}

// sectionPattern is a pattern of sectionDefs, split for matching.
type sectionPattern struct {
	prefix string
	// plus is set for patterns ending in '+'.
	plus bool
}

var sectionPatterns = func() (p [len(sectionDefs)]sectionPattern) {
	for i := range sectionDefs {
		prefix, plus := strings.CutSuffix(sectionDefs[i].pattern, "+")
		p[i] = sectionPattern{prefix, plus}
	}
	return
}()

// exactSections maps the section names that are a pattern's text (most
// sections in practice: "xdp", "tc", "cgroup/connect4") to the index of
// the first pattern that matches them, which is not always their own.
var exactSections = func() map[string]int {
	m := make(map[string]int, len(sectionDefs))
	for i := range sectionPatterns {
		name := sectionPatterns[i].prefix
		if _, ok := m[name]; !ok {
			m[name] = firstSectionMatch(name)
		}
	}
	return m
}()

// firstSectionMatch returns the index of the first pattern that matches
// name, or -1.
func firstSectionMatch(name string) int {
	for i := range sectionPatterns {
		p := &sectionPatterns[i]
		if p.prefix[0] != name[0] {
			continue
		}
		if _, ok := p.match(name); ok {
			return i
		}
	}
	return -1
}

// programTypeOfSection returns what the section name says about its
// programs: type, attach type, load flags and attach target. A name no
// pattern matches gives an unspecified type and no error: the caller may
// set the type before loading.
func programTypeOfSection(section string) (ProgramType, AttachType, uint32, string) {
	name := strings.TrimPrefix(section, "?")
	if name == "" {
		return UnspecifiedProgram, AttachNone, 0, ""
	}
	i, ok := exactSections[name]
	if !ok {
		i = firstSectionMatch(name)
	}
	if i >= 0 {
		target, _ := sectionPatterns[i].match(name)
		def := &sectionDefs[i]
		var flags uint32
		if def.flags&secSleepable != 0 {
			flags |= unix.BPF_F_SLEEPABLE
		}
		if def.flags&secFrags != 0 {
			flags |= unix.BPF_F_XDP_HAS_FRAGS
		}
		if def.flags&secNoTarget != 0 {
			target = ""
		}
		return def.progType, def.attachType, flags, target
	}
	return UnspecifiedProgram, AttachNone, 0, ""
}

// match matches a section name against the pattern.
func (p *sectionPattern) match(name string) (target string, ok bool) {
	rest, ok := strings.CutPrefix(name, p.prefix)
	if !ok {
		return "", false
	}
	if !p.plus || rest == "" {
		return "", true
	}
	if rest[0] != '/' {
		return "", false
	}
	return rest[1:], true
}
