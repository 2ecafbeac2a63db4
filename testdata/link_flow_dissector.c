/* link_flow_dissector: a flow dissector (BPF_FLOW_DISSECTOR on a netns,
 * BPF_LINK_CREATE since 5.7) that counts its runs into .bss
 * dissect_count and hands every packet back to the kernel's own dissector
 * (returns BPF_FLOW_DISSECTOR_CONTINUE, 129, Linux 6.1), so attaching it
 * changes no flow.
 * Test: attach to the test's network namespace, send a UDP datagram over
 * loopback: dissect_count >= 1. Under BPF_PROG_TEST_RUN with a 64-byte
 * IPv4 packet: returns 129.
 * Verified here: bpftool prog loadall; libbpf loader test run (129).
 */
#include "common.h"

#define BPF_FLOW_DISSECTOR_CONTINUE 129

__u64 dissect_count;

SEC("flow_dissector")
int dissect(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&dissect_count, 1);
	return BPF_FLOW_DISSECTOR_CONTINUE;
}

BPF_LICENSE("GPL");
