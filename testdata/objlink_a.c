/* objlink_a.c + objlink_b.c: two halves of one program, linked by the
 * static linker (LinkObjects) and by bpftool gen object as its oracle.
 *
 * This half defines the socket filter objlink_entry, which calls an extern
 * function and reads extern variables and an extern map defined in
 * objlink_b.c; a weak function and a weak variable here lose to strong ones
 * in objlink_b.c; a static function and a static variable share their names
 * with objlink_b.c's and stay apart (the ELF reader calls the functions
 * "helper#1" and "helper#2"); a hidden function is called from both.
 * A test asserts: the linked objlink_entry returns 1000 + 2*100 + 7 + 3 + 11
 * + 20 + 5 = 1246 on a 64-byte packet, for both linkers' outputs.
 */
#include "common.h"

struct pair {
	int a;
	int b;
};

extern int b_func(int x);
extern int b_data;
extern struct pair b_pair;
extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} shared_map __attribute__((section(".maps")));

/* Loses to objlink_b.c's strong definitions. */
__weak __noinline int overridden(void) { return 1; }
__weak int weak_value = 1;

/* Kept apart from objlink_b.c's statics of the same names. */
static __noinline int helper(int x) { return x - 4; }
static volatile int private_value = 7;

__hidden __noinline int hidden_add(int x) { return x + 100; }

SEC("socket") int objlink_entry(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&shared_map, &key);
	int ret = b_func(1000);        /* 1000 + hidden_add(0) = 1100 */
	ret += hidden_add(0);           /* + 100 */
	ret += private_value + helper(private_value); /* + 7 + 3 */
	ret += overridden();            /* + 11 from objlink_b.c */
	ret += weak_value;              /* + 20 from objlink_b.c */
	ret += b_pair.b;                /* + 5 */
	ret += b_data - 42;             /* + 0 */
	if (v)
		*v += 1;
	return ret;
}

BPF_LICENSE("GPL");
