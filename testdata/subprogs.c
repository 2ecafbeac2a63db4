/* subprogs: bpf-to-bpf calls and callbacks.
 *   - static_add: a static subprogram (BTF linkage static);
 *   - global_mul, global_len: global functions (BTF linkage global), which
 *     the verifier checks on their own from their BTF prototype; global_len
 *     takes the program context;
 *   - hidden_sub: a global function with hidden visibility;
 *   - loop_cb: a bpf_loop callback, each_cb: a bpf_for_each_map_elem
 *     callback; both are loaded with ldimm64 (BPF_PSEUDO_FUNC) of a .text
 *     function.
 *
 * Test (tc, BPF_PROG_TEST_RUN with a 64-byte packet): run "compute":
 *   - returns 65 = global_mul(6, 7) + static_add(1, 2) + loop_sum + each_sum;
 *   - .bss afterwards: mul == 42, add == 3, loop_sum == 10 (0+1+2+3+4),
 *     each_sum == 10 (1+2+3+4, the values compute stores in "numbers"),
 *     hidden == 5, skb_len == 64;
 *   - map "numbers" (array u32 -> u64, 4 entries) == {1, 2, 3, 4}.
 * Run "second" (same packet): returns 11 = static_add(5, hidden_sub(3))
 * (second shares static_add and hidden_sub with compute).
 * Verified here: bpftool prog loadall; libbpf loader test runs (65, 11).
 */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} numbers SEC(".maps");

__u64 mul, add, loop_sum, each_sum, hidden, skb_len;

static __noinline int static_add(int a, int b)
{
	return a + b;
}

__noinline int global_mul(int a, int b)
{
	return a * b;
}

__noinline int global_len(struct __sk_buff *skb)
{
	if (!skb)
		return 0;
	return skb->len;
}

__hidden __noinline int hidden_sub(int x)
{
	return x + 3;
}

static int loop_cb(__u32 idx, void *ctx)
{
	*(__u64 *)ctx += idx;
	return 0; /* continue */
}

static long each_cb(void *map, __u32 *key, __u64 *val, void *ctx)
{
	*(__u64 *)ctx += *val;
	return 0; /* continue */
}

SEC("tc")
int compute(struct __sk_buff *skb)
{
	__u64 lsum = 0, esum = 0;
	__u32 i;

	for (i = 0; i < 4; i++) {
		__u32 key = i; /* i itself stays in a register */
		__u64 v = i + 1;

		bpf_map_update_elem(&numbers, &key, &v, BPF_ANY);
	}
	bpf_loop(5, loop_cb, &lsum, 0);
	bpf_for_each_map_elem(&numbers, each_cb, &esum, 0);

	mul = global_mul(6, 7);
	add = static_add(1, 2);
	loop_sum = lsum;
	each_sum = esum;
	hidden = hidden_sub(2);
	skb_len = global_len(skb);
	return mul + add + loop_sum + each_sum;
}

SEC("tc")
int second(struct __sk_buff *skb)
{
	return static_add(5, hidden_sub(3));
}

BPF_LICENSE("GPL");
