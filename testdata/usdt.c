/* usdt: USDT programs written against usdt.bpf.h's interface (usdt.h).
 *   - "usdt_args" (SEC("usdt"), no target): on every hit stores
 *     bpf_usdt_arg_cnt() into arg_cnt, each argument into args[i] and
 *     bpf_usdt_arg's return value into arg_errs[i] (for i < arg_cnt),
 *     bpf_usdt_arg(ctx, arg_cnt, ...)'s into past_end_err,
 *     bpf_usdt_cookie() into cookie and the process ID into last_pid, and
 *     counts into hits;
 *   - "usdt_throw" (SEC("usdt/libstdc++.so.6:libstdcxx:throw"),
 *     BPF_USDT(obj, tinfo)): counts C++ throws into throw_hits and stores
 *     the type_info pointer into throw_tinfo and the process ID into
 *     throw_pid;
 *   - "usdt_py_entry" (SEC("usdt/python3.11:python:function__entry"),
 *     BPF_USDT(file, func, line)): when the called function is named
 *     "bpfkit_marker", counts into py_hits and stores the line number into
 *     py_line and the process ID into py_pid.
 * All three share the weak __bpf_usdt_specs and __bpf_usdt_ip_to_spec_id.
 * Test (link): attach usdt_args to the probes of a program built with
 * <sys/sdt.h> and compare args with what it passed; attach the others to
 * libstdc++'s throw and python's function__entry and trigger them.
 * Verified here: the same program built with libbpf's usdt.bpf.h and
 * attached with libbpf's bpf_program__attach_usdt reads the same values.
 */
#include "common.h"
#include "usdt.h"

#define MAX_ARGS 12

long args[MAX_ARGS];
int arg_errs[MAX_ARGS];
int arg_cnt, past_end_err;
__u64 hits, cookie;
__u32 last_pid;

__u64 throw_hits;
long throw_tinfo;
__u32 throw_pid;

__u64 py_hits;
long py_line;
__u32 py_pid;

SEC("usdt")
int usdt_args(void *ctx)
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

SEC("usdt/libstdc++.so.6:libstdcxx:throw")
int BPF_USDT(usdt_throw, void *obj, void *tinfo)
{
	throw_tinfo = (long)tinfo;
	throw_pid = bpf_get_current_pid_tgid() >> 32;
	__sync_fetch_and_add(&throw_hits, 1);
	return 0;
}

static long (*const probe_read_user_str)(void *dst, __u32 size, const void *src) = (void *)114;

static const char marker[] = "bpfkit_marker";

SEC("usdt/python3.11:python:function__entry")
int BPF_USDT(usdt_py_entry, const char *file, const char *func, int line)
{
	char name[sizeof(marker)] = {};

	if (probe_read_user_str(name, sizeof(name), func) != sizeof(marker))
		return 0;
	for (int i = 0; i < sizeof(marker); i++)
		if (name[i] != marker[i])
			return 0;
	py_line = line;
	py_pid = bpf_get_current_pid_tgid() >> 32;
	__sync_fetch_and_add(&py_hits, 1);
	return 0;
}

BPF_LICENSE("GPL");
