/* syscall: a BPF_PROG_TYPE_SYSCALL program (Linux 5.14), which runs only
 * through BPF_PROG_TEST_RUN, with a context the caller supplies, plus a
 * global function whose pointer argument the verifier checks on its own
 * (it may be NULL, so the function tests it).
 *
 * Test: run "syscall_prog" with ctx_in = struct args {a = 6, b = 7, out = 0}
 * (16 bytes, no packet data, repeat 0):
 *   - returns 42 (a * b);
 *   - the kernel copies the context back into ctx_in: out == 13 (a + b);
 *   - .bss calls == number of runs.
 * A context shorter than 16 bytes (the furthest byte the program touches)
 * is refused by the kernel with EINVAL before the program runs.
 * Verified here: libbpf loader (42 and out 13 with the context above;
 * EINVAL with an 8-byte context).
 */
#include "common.h"

struct args {
	__u32 a;
	__u32 b;
	__u64 out;
};

__u64 calls;

__noinline int global_sum(struct args *args)
{
	if (!args)
		return 0;
	return args->a + args->b;
}

SEC("syscall")
int syscall_prog(struct args *ctx)
{
	calls++;
	ctx->out = global_sum(ctx);
	return ctx->a * ctx->b;
}

BPF_LICENSE("GPL");
