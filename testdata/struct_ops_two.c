/* struct_ops_two: two struct_ops maps of the same type,
 * tcp_congestion_ops, whose "init" members point at different programs
 * (and whose "release" member is set in one map only). Each program's
 * attach target is "tcp_congestion_ops:init" or ":release", so only the
 * relocations of .rel.struct_ops tell which map a program belongs to.
 *
 * ELF reader: maps "bpfkit_one" and "bpfkit_two" of type STRUCT_OPS;
 * MapSpec.StructOpsPrograms of bpfkit_one is {cong_avoid: two_cong_avoid,
 * init: one_init, release: one_release, ssthresh: two_ssthresh, undo_cwnd:
 * two_undo_cwnd}; bpfkit_two's is the same but init: two_init and no
 * release.
 *
 * Test (loader): after loading, a TCP connection over loopback whose
 * client socket chose bpfkit_two with setsockopt(TCP_CONGESTION) counts in
 * "two_inits" and not in "one_inits"; one with bpfkit_one the other way
 * round, and its close counts in "one_releases".
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
	void (*release)(struct sock *sk);
	char name[16];
} __core;

__u64 one_inits;
__u64 two_inits;
__u64 one_releases;

SEC("struct_ops/one_init")
void one_init(__u64 *ctx)
{
	one_inits++;
}

SEC("struct_ops/two_init")
void two_init(__u64 *ctx)
{
	two_inits++;
}

SEC("struct_ops/one_release")
void one_release(__u64 *ctx)
{
	one_releases++;
}

SEC("struct_ops/two_ssthresh")
__u32 two_ssthresh(__u64 *ctx)
{
	return 10;
}

SEC("struct_ops/two_cong_avoid")
void two_cong_avoid(__u64 *ctx)
{
}

SEC("struct_ops/two_undo_cwnd")
__u32 two_undo_cwnd(__u64 *ctx)
{
	return 10;
}

SEC(".struct_ops")
struct tcp_congestion_ops bpfkit_one = {
	.init = (void *)one_init,
	.release = (void *)one_release,
	.ssthresh = (void *)two_ssthresh,
	.cong_avoid = (void *)two_cong_avoid,
	.undo_cwnd = (void *)two_undo_cwnd,
	.name = "bpfkit_one",
};

SEC(".struct_ops")
struct tcp_congestion_ops bpfkit_two = {
	.init = (void *)two_init,
	.ssthresh = (void *)two_ssthresh,
	.cong_avoid = (void *)two_cong_avoid,
	.undo_cwnd = (void *)two_undo_cwnd,
	.name = "bpfkit_two",
};

BPF_LICENSE("GPL");
