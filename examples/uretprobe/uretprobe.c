//go:build ignore

/* Reports what a function of a user-space program returns, with a
 * uretprobe. Reading the return register needs the architecture's
 * struct pt_regs: bpf2go builds this file for amd64 and arm64. */
#include "common.h"

char _license[] SEC("license") = "GPL";

struct event {
	__u32 pid;
	__u32 padding;
	__s64 ret; /* the return register, as a signed integer */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 14);
	__type(value, struct event);
} events SEC(".maps");

SEC("uretprobe")
int report_return(struct pt_regs *ctx)
{
	struct event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return 0;
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->ret = PT_REGS_RC(ctx);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
