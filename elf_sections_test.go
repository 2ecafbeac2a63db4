package ebpf

import (
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"
)

// progSection is what a section name says about a program.
type progSection struct {
	Section string
	Type    ProgramType
	Attach  AttachType
	Flags   uint32
	To      string
}

const (
	sleepable = unix.BPF_F_SLEEPABLE
	frags     = unix.BPF_F_XDP_HAS_FRAGS
)

// TestSections checks every program of testdata/sections.c, one per
// section name of libbpf's table.
func TestSections(t *testing.T) {
	want := map[string]progSection{
		"prog_kprobe":            {"kprobe/do_unlinkat", Kprobe, AttachNone, 0, "do_unlinkat"},
		"prog_kretprobe":         {"kretprobe/do_unlinkat", Kprobe, AttachNone, 0, "do_unlinkat"},
		"prog_kprobe_multi":      {"kprobe.multi/bpf_fentry_test*", Kprobe, AttachTraceKprobeMulti, 0, "bpf_fentry_test*"},
		"prog_kretprobe_multi":   {"kretprobe.multi/bpf_fentry_test*", Kprobe, AttachTraceKprobeMulti, 0, "bpf_fentry_test*"},
		"prog_kprobe_session":    {"kprobe.session/bpf_fentry_test*", Kprobe, AttachTraceKprobeSession, 0, "bpf_fentry_test*"},
		"prog_ksyscall":          {"ksyscall/getpid", Kprobe, AttachNone, 0, "getpid"},
		"prog_kretsyscall":       {"kretsyscall/getpid", Kprobe, AttachNone, 0, "getpid"},
		"prog_uprobe":            {"uprobe//bin/true:main", Kprobe, AttachNone, 0, "/bin/true:main"},
		"prog_uretprobe":         {"uretprobe//bin/true:main", Kprobe, AttachNone, 0, "/bin/true:main"},
		"prog_uprobe_s":          {"uprobe.s//bin/true:main", Kprobe, AttachNone, sleepable, "/bin/true:main"},
		"prog_uretprobe_s":       {"uretprobe.s//bin/true:main", Kprobe, AttachNone, sleepable, "/bin/true:main"},
		"prog_uprobe_multi":      {"uprobe.multi//bin/true:ma*", Kprobe, AttachTraceUprobeMulti, 0, "/bin/true:ma*"},
		"prog_uretprobe_multi":   {"uretprobe.multi//bin/true:ma*", Kprobe, AttachTraceUprobeMulti, 0, "/bin/true:ma*"},
		"prog_uprobe_multi_s":    {"uprobe.multi.s//bin/true:ma*", Kprobe, AttachTraceUprobeMulti, sleepable, "/bin/true:ma*"},
		"prog_uretprobe_multi_s": {"uretprobe.multi.s//bin/true:ma*", Kprobe, AttachTraceUprobeMulti, sleepable, "/bin/true:ma*"},
		"prog_uprobe_session":    {"uprobe.session//bin/true:main", Kprobe, AttachTraceUprobeSession, 0, "/bin/true:main"},
		"prog_usdt":              {"usdt//bin/true:provider:name", Kprobe, AttachNone, 0, "/bin/true:provider:name"},

		"prog_tracepoint":       {"tracepoint/syscalls/sys_enter_getpid", TracePoint, AttachNone, 0, "syscalls/sys_enter_getpid"},
		"prog_tracepoint_2":     {"tracepoint/syscalls/sys_enter_getpid", TracePoint, AttachNone, 0, "syscalls/sys_enter_getpid"},
		"prog_tp":               {"tp/syscalls/sys_enter_getppid", TracePoint, AttachNone, 0, "syscalls/sys_enter_getppid"},
		"prog_raw_tracepoint":   {"raw_tracepoint/sys_enter", RawTracepoint, AttachNone, 0, "sys_enter"},
		"prog_raw_tp":           {"raw_tp/sys_exit", RawTracepoint, AttachNone, 0, "sys_exit"},
		"prog_raw_tracepoint_w": {"raw_tracepoint.w/bpf_testmod_test_writable_bare", RawTracepointWritable, AttachNone, 0, "bpf_testmod_test_writable_bare"},
		"prog_raw_tp_w":         {"raw_tp.w/bpf_testmod_test_writable_bare", RawTracepointWritable, AttachNone, 0, "bpf_testmod_test_writable_bare"},

		"prog_tp_btf":       {"tp_btf/sched_switch", Tracing, AttachTraceRawTp, 0, "sched_switch"},
		"prog_fentry":       {"fentry/bpf_fentry_test1", Tracing, AttachTraceFEntry, 0, "bpf_fentry_test1"},
		"prog_fexit":        {"fexit/bpf_fentry_test1", Tracing, AttachTraceFExit, 0, "bpf_fentry_test1"},
		"prog_fmod_ret":     {"fmod_ret/bpf_modify_return_test", Tracing, AttachModifyReturn, 0, "bpf_modify_return_test"},
		"prog_fentry_s":     {"fentry.s/bpf_fentry_test1", Tracing, AttachTraceFEntry, sleepable, "bpf_fentry_test1"},
		"prog_fexit_s":      {"fexit.s/bpf_fentry_test1", Tracing, AttachTraceFExit, sleepable, "bpf_fentry_test1"},
		"prog_fmod_ret_s":   {"fmod_ret.s/bpf_modify_return_test", Tracing, AttachModifyReturn, sleepable, "bpf_modify_return_test"},
		"prog_freplace":     {"freplace/target_func", Extension, AttachNone, 0, "target_func"},
		"prog_lsm":          {"lsm/file_open", LSM, AttachLSMMac, 0, "file_open"},
		"prog_lsm_s":        {"lsm.s/bprm_committed_creds", LSM, AttachLSMMac, sleepable, "bprm_committed_creds"},
		"prog_lsm_cgroup":   {"lsm_cgroup/socket_bind", LSM, AttachLSMCgroup, 0, "socket_bind"},
		"prog_iter_task":    {"iter/task", Tracing, AttachTraceIter, 0, "task"},
		"prog_iter_bpf_map": {"iter/bpf_map", Tracing, AttachTraceIter, 0, "bpf_map"},
		"prog_iter_s_task":  {"iter.s/task", Tracing, AttachTraceIter, sleepable, "task"},
		"prog_struct_ops":   {"struct_ops/init", StructOps, AttachNone, 0, ""},
		"prog_struct_ops_s": {"struct_ops.s/sleepable", StructOps, AttachNone, sleepable, ""},
		"prog_syscall":      {"syscall", Syscall, AttachNone, sleepable, ""},

		"prog_xdp_a":                 {"xdp", XDP, AttachXDP, 0, ""},
		"prog_xdp_b":                 {"xdp", XDP, AttachXDP, 0, ""},
		"prog_xdp_frags":             {"xdp.frags", XDP, AttachXDP, frags, ""},
		"prog_xdp_devmap":            {"xdp/devmap", XDP, AttachXDPDevMap, 0, ""},
		"prog_xdp_frags_devmap":      {"xdp.frags/devmap", XDP, AttachXDPDevMap, frags, ""},
		"prog_xdp_cpumap":            {"xdp/cpumap", XDP, AttachXDPCPUMap, 0, ""},
		"prog_xdp_frags_cpumap":      {"xdp.frags/cpumap", XDP, AttachXDPCPUMap, frags, ""},
		"prog_tc":                    {"tc", SchedCLS, AttachNone, 0, ""},
		"prog_tc_ingress":            {"tc/ingress", SchedCLS, AttachTCXIngress, 0, ""},
		"prog_tc_egress":             {"tc/egress", SchedCLS, AttachTCXEgress, 0, ""},
		"prog_tcx_ingress":           {"tcx/ingress", SchedCLS, AttachTCXIngress, 0, ""},
		"prog_tcx_egress":            {"tcx/egress", SchedCLS, AttachTCXEgress, 0, ""},
		"prog_netkit_primary":        {"netkit/primary", SchedCLS, AttachNetkitPrimary, 0, ""},
		"prog_netkit_peer":           {"netkit/peer", SchedCLS, AttachNetkitPeer, 0, ""},
		"prog_classifier":            {"classifier", SchedCLS, AttachNone, 0, ""},
		"prog_action":                {"action", SchedACT, AttachNone, 0, ""},
		"prog_socket_a":              {"socket", SocketFilter, AttachNone, 0, ""},
		"prog_socket_b":              {"socket", SocketFilter, AttachNone, 0, ""},
		"prog_sk_skb_stream_parser":  {"sk_skb/stream_parser", SkSKB, AttachSkSKBStreamParser, 0, ""},
		"prog_sk_skb_stream_verdict": {"sk_skb/stream_verdict", SkSKB, AttachSkSKBStreamVerdict, 0, ""},
		"prog_sk_skb_verdict":        {"sk_skb/verdict", SkSKB, AttachSkSKBVerdict, 0, ""},
		"prog_sk_skb":                {"sk_skb", SkSKB, AttachNone, 0, ""},
		"prog_sk_msg":                {"sk_msg", SkMsg, AttachSkMsgVerdict, 0, ""},
		"prog_sk_lookup":             {"sk_lookup", SkLookup, AttachSkLookup, 0, ""},
		"prog_sk_reuseport":          {"sk_reuseport", SkReuseport, AttachSkReuseportSelect, 0, ""},
		"prog_sk_reuseport_migrate":  {"sk_reuseport/migrate", SkReuseport, AttachSkReuseportSelectOrMigrate, 0, ""},
		"prog_sockops":               {"sockops", SockOps, AttachCGroupSockOps, 0, ""},
		"prog_flow_dissector":        {"flow_dissector", FlowDissector, AttachFlowDissector, 0, ""},
		"prog_netfilter":             {"netfilter", Netfilter, AttachNetfilter, 0, ""},
		"prog_lwt_in":                {"lwt_in", LWTIn, AttachNone, 0, ""},
		"prog_lwt_out":               {"lwt_out", LWTOut, AttachNone, 0, ""},
		"prog_lwt_xmit":              {"lwt_xmit", LWTXmit, AttachNone, 0, ""},
		"prog_lwt_seg6local":         {"lwt_seg6local", LWTSeg6Local, AttachNone, 0, ""},

		"prog_cgroup_skb_ingress":      {"cgroup_skb/ingress", CGroupSKB, AttachCGroupInetIngress, 0, ""},
		"prog_cgroup_skb_egress":       {"cgroup_skb/egress", CGroupSKB, AttachCGroupInetEgress, 0, ""},
		"prog_cgroup_skb":              {"cgroup/skb", CGroupSKB, AttachNone, 0, ""},
		"prog_cgroup_sock_create":      {"cgroup/sock_create", CGroupSock, AttachCGroupInetSockCreate, 0, ""},
		"prog_cgroup_sock_release":     {"cgroup/sock_release", CGroupSock, AttachCgroupInetSockRelease, 0, ""},
		"prog_cgroup_sock":             {"cgroup/sock", CGroupSock, AttachCGroupInetSockCreate, 0, ""},
		"prog_cgroup_post_bind4":       {"cgroup/post_bind4", CGroupSock, AttachCGroupInet4PostBind, 0, ""},
		"prog_cgroup_post_bind6":       {"cgroup/post_bind6", CGroupSock, AttachCGroupInet6PostBind, 0, ""},
		"prog_cgroup_bind4":            {"cgroup/bind4", CGroupSockAddr, AttachCGroupInet4Bind, 0, ""},
		"prog_cgroup_bind6":            {"cgroup/bind6", CGroupSockAddr, AttachCGroupInet6Bind, 0, ""},
		"prog_cgroup_connect4":         {"cgroup/connect4", CGroupSockAddr, AttachCGroupInet4Connect, 0, ""},
		"prog_cgroup_connect6":         {"cgroup/connect6", CGroupSockAddr, AttachCGroupInet6Connect, 0, ""},
		"prog_cgroup_connect_unix":     {"cgroup/connect_unix", CGroupSockAddr, AttachCgroupUnixConnect, 0, ""},
		"prog_cgroup_sendmsg4":         {"cgroup/sendmsg4", CGroupSockAddr, AttachCGroupUDP4Sendmsg, 0, ""},
		"prog_cgroup_sendmsg6":         {"cgroup/sendmsg6", CGroupSockAddr, AttachCGroupUDP6Sendmsg, 0, ""},
		"prog_cgroup_sendmsg_unix":     {"cgroup/sendmsg_unix", CGroupSockAddr, AttachCgroupUnixSendmsg, 0, ""},
		"prog_cgroup_recvmsg4":         {"cgroup/recvmsg4", CGroupSockAddr, AttachCGroupUDP4Recvmsg, 0, ""},
		"prog_cgroup_recvmsg6":         {"cgroup/recvmsg6", CGroupSockAddr, AttachCGroupUDP6Recvmsg, 0, ""},
		"prog_cgroup_recvmsg_unix":     {"cgroup/recvmsg_unix", CGroupSockAddr, AttachCgroupUnixRecvmsg, 0, ""},
		"prog_cgroup_getpeername4":     {"cgroup/getpeername4", CGroupSockAddr, AttachCgroupInet4GetPeername, 0, ""},
		"prog_cgroup_getpeername6":     {"cgroup/getpeername6", CGroupSockAddr, AttachCgroupInet6GetPeername, 0, ""},
		"prog_cgroup_getpeername_unix": {"cgroup/getpeername_unix", CGroupSockAddr, AttachCgroupUnixGetpeername, 0, ""},
		"prog_cgroup_getsockname4":     {"cgroup/getsockname4", CGroupSockAddr, AttachCgroupInet4GetSockname, 0, ""},
		"prog_cgroup_getsockname6":     {"cgroup/getsockname6", CGroupSockAddr, AttachCgroupInet6GetSockname, 0, ""},
		"prog_cgroup_getsockname_unix": {"cgroup/getsockname_unix", CGroupSockAddr, AttachCgroupUnixGetsockname, 0, ""},
		"prog_cgroup_sysctl":           {"cgroup/sysctl", CGroupSysctl, AttachCGroupSysctl, 0, ""},
		"prog_cgroup_getsockopt":       {"cgroup/getsockopt", CGroupSockopt, AttachCGroupGetsockopt, 0, ""},
		"prog_cgroup_setsockopt":       {"cgroup/setsockopt", CGroupSockopt, AttachCGroupSetsockopt, 0, ""},
		"prog_cgroup_dev":              {"cgroup/dev", CGroupDevice, AttachCGroupDevice, 0, ""},

		"prog_perf_event": {"perf_event", PerfEvent, AttachNone, 0, ""},
		"prog_lirc_mode2": {"lirc_mode2", LircMode2, AttachLircMode2, 0, ""},
		"prog_unknown":    {"custom/unknown", UnspecifiedProgram, AttachNone, 0, ""},
	}

	for _, order := range []string{"el", "eb"} {
		spec := mustLoad(t, "sections", order)
		got := map[string]progSection{}
		for name, p := range spec.Programs {
			got[name] = progSection{p.SectionName, p.Type, p.AttachType, p.Flags, p.AttachTo}
			qt.Assert(t, qt.Equals(p.License, "Dual MIT/GPL"))
			qt.Assert(t, qt.Equals(p.KernelVersion, 0x00061200))
		}
		qt.Assert(t, qt.DeepEquals(got, want))

		// Both callers of the static function get a copy of it.
		for _, name := range []string{"prog_xdp_a", "prog_socket_a"} {
			insns := spec.Programs[name].Instructions
			var syms []string
			for _, ins := range insns {
				if s := ins.Symbol(); s != "" {
					syms = append(syms, s)
				}
			}
			qt.Assert(t, qt.DeepEquals(syms, []string{name, "shared"}))
		}
	}
}

func TestProgramTypeOfSection(t *testing.T) {
	for _, tc := range []struct {
		section string
		want    progSection
	}{
		// libbpf's "don't load by default" mark.
		{"?xdp", progSection{"", XDP, AttachXDP, 0, ""}},
		{"?kprobe/foo", progSection{"", Kprobe, AttachNone, 0, "foo"}},
		// A '+' pattern takes the name alone or "/target", nothing else.
		{"kprobe", progSection{"", Kprobe, AttachNone, 0, ""}},
		{"kprobe/", progSection{"", Kprobe, AttachNone, 0, ""}},
		{"kprobe/a/b", progSection{"", Kprobe, AttachNone, 0, "a/b"}},
		{"kprobefoo", progSection{"", UnspecifiedProgram, AttachNone, 0, ""}},
		// Other patterns match as prefixes, like cilium/ebpf.
		{"xdp_prog", progSection{"", XDP, AttachXDP, 0, ""}},
		{"socket1", progSection{"", SocketFilter, AttachNone, 0, ""}},
		{"cgroup/sock_foo", progSection{"", CGroupSock, AttachCGroupInetSockCreate, 0, ""}},
		// The first match in libbpf's order wins.
		{"tc/ingress", progSection{"", SchedCLS, AttachTCXIngress, 0, ""}},
		{"tcx/egress", progSection{"", SchedCLS, AttachTCXEgress, 0, ""}},
		{"uprobe.multi.s/x", progSection{"", Kprobe, AttachTraceUprobeMulti, sleepable, "x"}},
		{"struct_ops.s/x", progSection{"", StructOps, AttachNone, sleepable, ""}},
		{"", progSection{"", UnspecifiedProgram, AttachNone, 0, ""}},
		{"?", progSection{"", UnspecifiedProgram, AttachNone, 0, ""}},
		{".text", progSection{"", UnspecifiedProgram, AttachNone, 0, ""}},
	} {
		typ, attach, flags, to := programTypeOfSection(tc.section)
		qt.Assert(t, qt.Equals(progSection{"", typ, attach, flags, to}, tc.want), qt.Commentf("section %q", tc.section))
	}
}
