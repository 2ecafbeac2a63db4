/* link_uprobe: uprobe programs without a target in the section name: the
 * test picks the binary and symbol when it attaches (e.g. a function of
 * the test binary itself).
 *   - "on_entry" (uprobe), "on_return" (uretprobe): count into .bss
 *     entry_count / return_count and store bpf_get_attach_cookie() into
 *     last_cookie;
 *   - "on_entry_sleepable" (uprobe.s): counts into sleepable_count;
 *   - "on_multi" (uprobe.multi, BPF_TRACE_UPROBE_MULTI, 6.6) and
 *     "on_multi_return" (uretprobe.multi): count into multi_count /
 *     multi_return_count.
 * Test: attach to a function F of the test process with cookie C, call F N
 * times: entry_count == return_count == N, last_cookie == C; with a
 * multi-uprobe link on K functions, each called once: multi_count == K.
 * Verified here: libbpf loader (all five load; uprobe.multi programs with
 * expected attach type BPF_TRACE_UPROBE_MULTI, which libbpf 1.1 does not
 * infer from the section).
 */
#include "common.h"

static __u64 (*const bpf_get_attach_cookie)(void *ctx) = (void *)174;

__u64 entry_count, return_count, sleepable_count, multi_count, multi_return_count;
__u64 last_cookie;

SEC("uprobe")
int on_entry(void *ctx)
{
	__sync_fetch_and_add(&entry_count, 1);
	last_cookie = bpf_get_attach_cookie(ctx);
	return 0;
}

SEC("uretprobe")
int on_return(void *ctx)
{
	__sync_fetch_and_add(&return_count, 1);
	return 0;
}

SEC("uprobe.s")
int on_entry_sleepable(void *ctx)
{
	__sync_fetch_and_add(&sleepable_count, 1);
	return 0;
}

SEC("uprobe.multi")
int on_multi(void *ctx)
{
	__sync_fetch_and_add(&multi_count, 1);
	return 0;
}

SEC("uretprobe.multi")
int on_multi_return(void *ctx)
{
	__sync_fetch_and_add(&multi_return_count, 1);
	return 0;
}

BPF_LICENSE("GPL");
