/* struct_ops: a TCP congestion control implemented as struct_ops
 * programs, declared twice: in ".struct_ops" (registered with
 * BPF_MAP_UPDATE_ELEM, unregistered when the map goes) and in
 * ".struct_ops.link" (BPF_F_LINK: attached through a bpf_link, Linux 6.4).
 * struct tcp_congestion_ops and struct sock are local definitions with only
 * the members used; the loader matches them by name with the kernel's.
 *
 * ELF reader: maps "bpfkit_cc" and "bpfkit_cc_link" of type STRUCT_OPS,
 * value type tcp_congestion_ops, key size 4, max_entries 1, the second with
 * BPF_F_LINK; their ssthresh/cong_avoid/undo_cwnd/init members point at
 * the programs of the same name prefix (relocations in .rel.struct_ops and
 * .rel.struct_ops.link), "name" holds "bpfkit" / "bpfkit_link" and
 * "flags" 0. Programs are BPF_PROG_TYPE_STRUCT_OPS; the attach target of
 * each is the member it fills.
 *
 * Test (loader/links): after loading, /proc/sys/net/ipv4/
 * tcp_available_congestion_control lists "bpfkit" (map update) and, once
 * the link is attached, "bpfkit_link"; a TCP socket on loopback with
 * setsockopt(TCP_CONGESTION, "bpfkit_link") connects, and .bss "inits"
 * counts the sockets that called init.
 * Verified here: bpftool 7.1 (libbpf 1.1) predates .struct_ops.link, so a
 * throwaway copy without bpfkit_cc_link was registered with "bpftool
 * struct_ops register": "bpfkit" appeared in
 * tcp_available_congestion_control (STRUCT_OPS programs load on 6.18 here).
 */
#include "common.h"

struct sock {
	__u32 sk_rcvbuf;
} __core;

struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	void (*init)(struct sock *sk);
	char name[16];
	__u32 flags;
} __core;

__u64 inits;

SEC("struct_ops/bpfkit_init")
void bpfkit_init(__u64 *ctx)
{
	inits++;
}

SEC("struct_ops/bpfkit_ssthresh")
__u32 bpfkit_ssthresh(__u64 *ctx)
{
	return 10;
}

SEC("struct_ops/bpfkit_cong_avoid")
void bpfkit_cong_avoid(__u64 *ctx)
{
}

SEC("struct_ops/bpfkit_undo_cwnd")
__u32 bpfkit_undo_cwnd(__u64 *ctx)
{
	return 10;
}

SEC(".struct_ops")
struct tcp_congestion_ops bpfkit_cc = {
	.init = (void *)bpfkit_init,
	.ssthresh = (void *)bpfkit_ssthresh,
	.cong_avoid = (void *)bpfkit_cong_avoid,
	.undo_cwnd = (void *)bpfkit_undo_cwnd,
	.name = "bpfkit",
};

SEC(".struct_ops.link")
struct tcp_congestion_ops bpfkit_cc_link = {
	.init = (void *)bpfkit_init,
	.ssthresh = (void *)bpfkit_ssthresh,
	.cong_avoid = (void *)bpfkit_cong_avoid,
	.undo_cwnd = (void *)bpfkit_undo_cwnd,
	.name = "bpfkit_link",
};

BPF_LICENSE("GPL");
