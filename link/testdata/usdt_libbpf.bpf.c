/* usdt_libbpf.bpf.c: testdata/usdt.c's usdt_args, built by the link tests
 * against the system's libbpf headers (libbpf-dev's <bpf/usdt.bpf.h>), so
 * that the object is exactly what a libbpf user would write. The test
 * attaches it both with this library and with libbpf (usdt_loader.c) and
 * compares what it read.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#define MAX_ARGS 12

long args[MAX_ARGS];
int arg_errs[MAX_ARGS];
int arg_cnt, past_end_err;
__u64 hits, cookie;
__u32 last_pid;

SEC("usdt")
int usdt_args(struct pt_regs *ctx)
{
	int n = bpf_usdt_arg_cnt(ctx);

	arg_cnt = n;
	for (int i = 0; i < MAX_ARGS; i++) {
		long v;

		if (i >= n)
			break;
		arg_errs[i] = bpf_usdt_arg(ctx, i, &v);
		args[i] = v;
	}
	if (n >= 0) {
		long v;

		past_end_err = bpf_usdt_arg(ctx, n, &v);
	}
	cookie = bpf_usdt_cookie(ctx);
	last_pid = bpf_get_current_pid_tgid() >> 32;
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

/* A BPF_USDT program reading bpfkit:multi's two arguments. */
long multi_sum;

SEC("usdt")
int BPF_USDT(usdt_multi, int a, int b)
{
	__sync_fetch_and_add(&multi_sum, a + b);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
