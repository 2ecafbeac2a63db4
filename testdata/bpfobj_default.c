/* bpfobj_default: the CLI's default object (issue 8). A packet counter with
 * one map, one global variable and one subprogram; loads on 6.18 and runs
 * under BPF_PROG_TEST_RUN.
 *
 * Test (XDP): run "xdp_count" with a 64-byte packet (any bytes) N times.
 *   - each run returns XDP_PASS (2);
 *   - map "packets" (array, 1 entry, u32 -> u64): key 0 == N;
 *   - global "bytes" (.bss, u64) == 64 * N;
 *   - global "runs" (.data, u32, initial value 100) == 100 + N.
 * A packet shorter than 14 bytes is refused by the kernel's XDP test run
 * (EINVAL) before the program runs.
 * Test (socket filter): run "socket_count" with the same 64-byte packet: it
 * returns skb->len, which is 50 because the kernel's test run pulls the
 * 14-byte Ethernet header first (keep 50 bytes); "packets" grows by one and
 * "bytes" by 50.
 * Verified here: bpftool prog loadall, and a libbpf loader running both
 * programs (xdp_count x3 + socket_count x1: packets=4, bytes=242, runs=104).
 */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

__u64 bytes;
__u32 runs = 100;

/* Not inlined: the object has a bpf-to-bpf call. */
static __noinline void count(__u32 len)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&packets, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	bytes += len;
	runs++;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	count(ctx->data_end - ctx->data);
	return XDP_PASS;
}

SEC("socket")
int socket_count(struct __sk_buff *skb)
{
	count(skb->len);
	return skb->len;
}

BPF_LICENSE("GPL");
