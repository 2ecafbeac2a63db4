/* link_freplace_target: the program an extension (link_freplace.c)
 * replaces a function of. "freplace_entry" (tc) returns replace_me(7);
 * replace_me is a global function (BTF linkage global), so the verifier
 * checks it alone and an extension program may take its place.
 * Test: run freplace_entry (BPF_PROG_TEST_RUN, 64-byte packet): returns 8
 * (7 + 1). Load link_freplace's "new_replace_me" with this program as
 * attach target and "replace_me" as function, attach (BPF_LINK_CREATE or
 * BPF_RAW_TRACEPOINT_OPEN): freplace_entry now returns 14 (7 * 2); close
 * the link: 8 again.
 * Verified here: bpftool prog loadall, libbpf loader test run (8).
 */
#include "common.h"

__noinline int replace_me(int x)
{
	return x + 1;
}

SEC("tc")
int freplace_entry(struct __sk_buff *skb)
{
	return replace_me(7);
}

BPF_LICENSE("GPL");
