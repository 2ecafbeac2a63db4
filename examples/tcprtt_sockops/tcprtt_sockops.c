//go:build ignore

/* Reports the smoothed round-trip time of TCP connections of a cgroup at
 * every RTT sample, with a sockops program. */
#include "common.h"

char _license[] SEC("license") = "GPL";

struct rtt_event {
	__be32 saddr;
	__be32 daddr;
	__u16 sport; /* host byte order */
	__u16 dport; /* host byte order */
	__u32 srtt_us;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
	__type(value, struct rtt_event);
} rtt_events SEC(".maps");

SEC("sockops")
int report_rtt(struct bpf_sock_ops *skops)
{
	if (skops->family != AF_INET)
		return 1;

	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/* A new connection: ask for a callback at each RTT sample. */
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RTT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_RTT_CB: {
		struct rtt_event *ev = bpf_ringbuf_reserve(&rtt_events, sizeof(*ev), 0);
		if (!ev)
			break;
		ev->saddr = skops->local_ip4;
		ev->daddr = skops->remote_ip4;
		ev->sport = skops->local_port;
		ev->dport = bpf_ntohs(skops->remote_port >> 16);
		/* The kernel keeps eight times the average. */
		ev->srtt_us = skops->srtt_us >> 3;
		bpf_ringbuf_submit(ev, 0);
		break;
	}
	}
	return 1;
}
