/* link_netfilter: a netfilter program (BPF_PROG_TYPE_NETFILTER, attached
 * with BPF_LINK_CREATE to a protocol family and hook, Linux 6.4) that
 * counts packets into .bss nf_count and accepts them.
 * Test: attach to NFPROTO_IPV4, NF_INET_LOCAL_OUT (priority -128), send
 * a UDP datagram to 127.0.0.1: it arrives and nf_count >= 1. Under
 * BPF_PROG_TEST_RUN netfilter programs take a struct bpf_nf_ctx context
 * (6.4).
 * Verified here: libbpf loader (type and expected attach type
 * BPF_NETFILTER set by hand: libbpf 1.1 does not know the section).
 */
#include "common.h"

__u64 nf_count;

SEC("netfilter")
int nf_accept(struct bpf_nf_ctx *ctx)
{
	__sync_fetch_and_add(&nf_count, 1);
	return NF_ACCEPT;
}

BPF_LICENSE("GPL");
