//go:build ignore

/* Reports every outgoing IPv4 TCP connection, from an fentry program on
 * the kernel's tcp_connect(). */
#include "common.h"

char _license[] SEC("license") = "GPL";

struct connect_event {
	__u8 comm[16];
	__be32 saddr;
	__be32 daddr;
	__u16 dport; /* host byte order */
	__u16 padding;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
	__type(value, struct connect_event);
} events SEC(".maps");

/* fentry programs (Linux 5.5) run at the entry of a kernel function with
 * its arguments typed from the kernel's BTF: sk can be read directly, no
 * bpf_probe_read needed, and CO-RE relocates the member offsets. */
SEC("fentry/tcp_connect")
int trace_connect(__u64 *ctx)
{
	struct sock *sk = (struct sock *)BPF_ARG(ctx, 0);

	if (sk->__sk_common.skc_family != AF_INET)
		return 0;
	struct connect_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return 0;
	bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
	ev->saddr = sk->__sk_common.skc_rcv_saddr;
	ev->daddr = sk->__sk_common.skc_daddr;
	ev->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	ev->padding = 0;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
