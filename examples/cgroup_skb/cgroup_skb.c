//go:build ignore

/* Counts the packets that processes of a cgroup send. */
#include "common.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} egress_packets SEC(".maps");

/* Runs for every packet leaving a socket of the cgroup or its
 * descendants. Returning 1 lets the packet go, 0 would drop it. */
SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&egress_packets, &zero);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 1;
}
