//go:build ignore

/* Reports every hit of a USDT probe with its arguments, read the way
 * libbpf's usdt.bpf.h reads them (see ../headers/usdt.h). */
#include "common.h"
#include "usdt.h"

char _license[] SEC("license") = "GPL";

struct event {
	__u32 pid;
	__s32 nargs; /* or a negative error */
	__s64 args[BPF_USDT_MAX_ARG_CNT];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 14);
	__type(value, struct event);
} events SEC(".maps");

SEC("usdt")
int report_args(struct pt_regs *ctx)
{
	struct event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev)
		return 0;
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->nargs = bpf_usdt_arg_cnt(ctx);
	__builtin_memset(ev->args, 0, sizeof(ev->args));
	for (int i = 0; i < BPF_USDT_MAX_ARG_CNT; i++) {
		long v;

		if (i >= ev->nargs)
			break;
		bpf_usdt_arg(ctx, i, &v);
		ev->args[i] = v;
	}
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
