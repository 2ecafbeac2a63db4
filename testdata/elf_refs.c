/* elf_refs: references the ELF reader must resolve beyond the common
 * cases of the other objects (issue 5).
 *
 * ELF reader:
 *   - "sum_table" (tc) passes the static function "add_cb" to bpf_loop: an
 *     ldimm64 (BPF_PSEUDO_FUNC) relocated against the .text section symbol
 *     with add_cb's offset in the immediate, which is not 0 (the global
 *     function "first" comes before it); the reference must name add_cb.
 *     (Callbacks must be static: the verifier refuses global ones.)
 *   - it takes the address of table[2]: the ldimm64 refers to the OBJECT
 *     symbol "table" (clang adds the 8 with an ALU instruction);
 *   - it reads two statics of .rodata, "answer" and "greeting", through
 *     the section symbol with their offset in the immediate (one of them
 *     is not at offset 0);
 *   - "weak_value" is a weak global (a VariableSpec), "hidden_value" a
 *     hidden one (no VariableSpec, but in .data's BTF);
 *   - "optional" sits in section "?tc": libbpf's mark for programs not
 *     loaded by default; its type is SchedCLS all the same;
 *   - "first" is a global function at offset 0 of .text that nobody calls.
 *
 * Test (tc, BPF_PROG_TEST_RUN with a 64-byte packet): "sum_table" returns
 * 0+1+2+3 (bpf_loop of add_cb over 4 iterations) + table[2] (30) +
 * greeting[1] ('i' = 105) + weak_value (5) + hidden_value (6) + answer
 * (42) = 194;
 * "optional" returns 1.
 */
#include "common.h"

__u32 table[4] = {10, 20, 30, 40};
__weak __u32 weak_value = 5;
__hidden __u32 hidden_value = 6;
static const volatile __u64 answer = 42;
static const char greeting[] = "hi there";

__noinline int first(int x)
{
	return x + 100;
}

static __noinline int add_cb(__u32 idx, void *ctx)
{
	*(__u64 *)ctx += idx;
	return 0;
}

SEC("tc")
int sum_table(struct __sk_buff *skb)
{
	volatile __u32 *p = &table[2];

	barrier_var(p);
	const volatile char *g = greeting;
	__u64 sum = 0;

	bpf_loop(4, add_cb, &sum, 0);
	return sum + *p + g[1] + weak_value + hidden_value + answer;
}

SEC("?tc")
int optional(struct __sk_buff *skb)
{
	return 1;
}

BPF_LICENSE("GPL");
