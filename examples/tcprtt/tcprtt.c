//go:build ignore

/* Reports the smoothed round-trip time of every IPv4 TCP connection when it
 * closes, from an fentry program on the kernel's tcp_close(). */
#include "common.h"

char _license[] SEC("license") = "GPL";

struct close_event {
	__be32 saddr;
	__be32 daddr;
	__u16 sport; /* host byte order */
	__u16 dport; /* host byte order */
	__u32 srtt_us;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
	__type(value, struct close_event);
} events SEC(".maps");

SEC("fentry/tcp_close")
int trace_close(__u64 *ctx)
{
	struct sock *sk = (struct sock *)BPF_ARG(ctx, 0);

	if (sk->__sk_common.skc_family != AF_INET)
		return 0;
	/* The verifier knows sk as a struct sock and refuses reads beyond it:
	 * this helper (5.9) checks that it is a TCP socket and returns it
	 * typed as the struct tcp_sock that starts with it. */
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	struct close_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return 0;
	ev->saddr = sk->__sk_common.skc_rcv_saddr;
	ev->daddr = sk->__sk_common.skc_daddr;
	ev->sport = sk->__sk_common.skc_num;
	ev->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	ev->srtt_us = tp->srtt_us >> 3;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
