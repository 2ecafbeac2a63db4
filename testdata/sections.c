/* sections: one program per libbpf section name, for the ELF reader
 * (issue 5). Not meant to load as a whole (kprobes, tracing and LSM programs
 * are refused here, attach targets are placeholders); every program is
 * "return <its line number>" so a test can tell them apart.
 *
 * Each program is named "prog_" + the second argument of PROG (symbols
 * named like their section would clash with the section symbol).
 * A test should assert, for each program: its name, its section name, the
 * program type and attach type the section implies, and the attach target
 * (the part after the prefix, e.g. "syscalls/sys_enter_getpid" or
 * "bpf_fentry_test1"). Also:
 *   - "xdp", "socket" and "tracepoint/syscalls/sys_enter_getpid" hold two
 *     programs each (the reader must split a section by symbol);
 *   - prog_xdp_a and prog_socket_a call the static subprogram "shared" (in .text): both
 *     programs get a copy of it;
 *   - license "Dual MIT/GPL" and a "version" section (0x00061200, 6.18.0);
 *   - "prog_unknown" sits in section "custom/unknown", which no loader knows: the
 *     reader reports an unspecified program type instead of failing.
 * The names below follow libbpf's section table; "+" prefixes take a
 * "/target" suffix.
 */
#include "common.h"

static __noinline int shared(int x)
{
	return x * 3;
}

#define PROG(sec, name) \
	SEC(sec) int prog_##name(void *ctx) { return __LINE__; }

/* Probes: BPF_PROG_TYPE_KPROBE. */
PROG("kprobe/do_unlinkat", kprobe)
PROG("kretprobe/do_unlinkat", kretprobe)
PROG("kprobe.multi/bpf_fentry_test*", kprobe_multi)
PROG("kretprobe.multi/bpf_fentry_test*", kretprobe_multi)
PROG("kprobe.session/bpf_fentry_test*", kprobe_session)
PROG("ksyscall/getpid", ksyscall)
PROG("kretsyscall/getpid", kretsyscall)
PROG("uprobe//bin/true:main", uprobe)
PROG("uretprobe//bin/true:main", uretprobe)
PROG("uprobe.s//bin/true:main", uprobe_s)
PROG("uretprobe.s//bin/true:main", uretprobe_s)
PROG("uprobe.multi//bin/true:ma*", uprobe_multi)
PROG("uretprobe.multi//bin/true:ma*", uretprobe_multi)
PROG("uprobe.multi.s//bin/true:ma*", uprobe_multi_s)
PROG("uretprobe.multi.s//bin/true:ma*", uretprobe_multi_s)
PROG("uprobe.session//bin/true:main", uprobe_session)
PROG("usdt//bin/true:provider:name", usdt)

/* Tracepoints. */
PROG("tracepoint/syscalls/sys_enter_getpid", tracepoint)
PROG("tracepoint/syscalls/sys_enter_getpid", tracepoint_2)
PROG("tp/syscalls/sys_enter_getppid", tp)
PROG("raw_tracepoint/sys_enter", raw_tracepoint)
PROG("raw_tp/sys_exit", raw_tp)
PROG("raw_tracepoint.w/bpf_testmod_test_writable_bare", raw_tracepoint_w)
PROG("raw_tp.w/bpf_testmod_test_writable_bare", raw_tp_w)

/* BTF-based tracing: BPF_PROG_TYPE_TRACING, LSM, EXT. */
PROG("tp_btf/sched_switch", tp_btf)
PROG("fentry/bpf_fentry_test1", fentry)
PROG("fexit/bpf_fentry_test1", fexit)
PROG("fmod_ret/bpf_modify_return_test", fmod_ret)
PROG("fentry.s/bpf_fentry_test1", fentry_s)
PROG("fexit.s/bpf_fentry_test1", fexit_s)
PROG("fmod_ret.s/bpf_modify_return_test", fmod_ret_s)
PROG("freplace/target_func", freplace)
PROG("lsm/file_open", lsm)
PROG("lsm.s/bprm_committed_creds", lsm_s)
PROG("lsm_cgroup/socket_bind", lsm_cgroup)
PROG("iter/task", iter_task)
PROG("iter/bpf_map", iter_bpf_map)
PROG("iter.s/task", iter_s_task)
PROG("struct_ops/init", struct_ops)
PROG("struct_ops.s/sleepable", struct_ops_s)
PROG("syscall", syscall)

/* XDP. */
SEC("xdp") int prog_xdp_a(void *ctx) { return shared(__LINE__); }
PROG("xdp", xdp_b)
PROG("xdp.frags", xdp_frags)
PROG("xdp/devmap", xdp_devmap)
PROG("xdp.frags/devmap", xdp_frags_devmap)
PROG("xdp/cpumap", xdp_cpumap)
PROG("xdp.frags/cpumap", xdp_frags_cpumap)

/* Traffic control. */
PROG("tc", tc)
PROG("tc/ingress", tc_ingress)
PROG("tc/egress", tc_egress)
PROG("tcx/ingress", tcx_ingress)
PROG("tcx/egress", tcx_egress)
PROG("netkit/primary", netkit_primary)
PROG("netkit/peer", netkit_peer)
PROG("classifier", classifier)
PROG("action", action)

/* Sockets. */
SEC("socket") int prog_socket_a(void *ctx) { return shared(__LINE__); }
PROG("socket", socket_b)
PROG("sk_skb/stream_parser", sk_skb_stream_parser)
PROG("sk_skb/stream_verdict", sk_skb_stream_verdict)
PROG("sk_skb/verdict", sk_skb_verdict)
PROG("sk_skb", sk_skb)
PROG("sk_msg", sk_msg)
PROG("sk_lookup", sk_lookup)
PROG("sk_reuseport", sk_reuseport)
PROG("sk_reuseport/migrate", sk_reuseport_migrate)
PROG("sockops", sockops)
PROG("flow_dissector", flow_dissector)
PROG("netfilter", netfilter)

/* Lightweight tunnels. */
PROG("lwt_in", lwt_in)
PROG("lwt_out", lwt_out)
PROG("lwt_xmit", lwt_xmit)
PROG("lwt_seg6local", lwt_seg6local)

/* Control groups. */
PROG("cgroup_skb/ingress", cgroup_skb_ingress)
PROG("cgroup_skb/egress", cgroup_skb_egress)
PROG("cgroup/skb", cgroup_skb)
PROG("cgroup/sock_create", cgroup_sock_create)
PROG("cgroup/sock_release", cgroup_sock_release)
PROG("cgroup/sock", cgroup_sock)
PROG("cgroup/post_bind4", cgroup_post_bind4)
PROG("cgroup/post_bind6", cgroup_post_bind6)
PROG("cgroup/bind4", cgroup_bind4)
PROG("cgroup/bind6", cgroup_bind6)
PROG("cgroup/connect4", cgroup_connect4)
PROG("cgroup/connect6", cgroup_connect6)
PROG("cgroup/connect_unix", cgroup_connect_unix)
PROG("cgroup/sendmsg4", cgroup_sendmsg4)
PROG("cgroup/sendmsg6", cgroup_sendmsg6)
PROG("cgroup/sendmsg_unix", cgroup_sendmsg_unix)
PROG("cgroup/recvmsg4", cgroup_recvmsg4)
PROG("cgroup/recvmsg6", cgroup_recvmsg6)
PROG("cgroup/recvmsg_unix", cgroup_recvmsg_unix)
PROG("cgroup/getpeername4", cgroup_getpeername4)
PROG("cgroup/getpeername6", cgroup_getpeername6)
PROG("cgroup/getpeername_unix", cgroup_getpeername_unix)
PROG("cgroup/getsockname4", cgroup_getsockname4)
PROG("cgroup/getsockname6", cgroup_getsockname6)
PROG("cgroup/getsockname_unix", cgroup_getsockname_unix)
PROG("cgroup/sysctl", cgroup_sysctl)
PROG("cgroup/getsockopt", cgroup_getsockopt)
PROG("cgroup/setsockopt", cgroup_setsockopt)
PROG("cgroup/dev", cgroup_dev)

/* Others. */
PROG("perf_event", perf_event)
PROG("lirc_mode2", lirc_mode2)

/* No loader knows this section. */
PROG("custom/unknown", unknown)

__u32 _version SEC("version") = 0x00061200;
BPF_LICENSE("Dual MIT/GPL");
