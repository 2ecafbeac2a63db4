//go:build ignore

/* Counts the IPv4 packets arriving on an interface, per source address. */
#include "common.h"

char _license[] SEC("license") = "GPL";

/* Source address (network byte order) -> packets. An LRU hash forgets the
 * quietest sources when it is full instead of refusing new ones. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
} packets_by_source SEC(".maps");

SEC("xdp")
int count_sources(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	/* The verifier insists: check every access against data_end. */
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	__u32 source = ip->saddr;
	__u64 *count = bpf_map_lookup_elem(&packets_by_source, &source);
	if (count) {
		__sync_fetch_and_add(count, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&packets_by_source, &source, &one, BPF_NOEXIST);
	}
	return XDP_PASS;
}
