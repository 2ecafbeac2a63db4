/* objlink_b.c: the other half of objlink_a.c (see there). It defines what
 * objlink_a.c declares extern, strong versions of its weak symbols, statics
 * of the same names, and its own socket filter objlink_second, which
 * returns 3 + 9 + 42 = 54.
 */
#include "common.h"

struct pair {
	int a;
	int b;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} shared_map SEC(".maps");

int b_data = 42;
struct pair b_pair = {4, 5};

extern int hidden_add(int x) __hidden;

__noinline int b_func(int x) { return hidden_add(x); }

__noinline int overridden(void) { return 11; }
int weak_value = 20;

static __noinline int helper(int x) { return x + 6; }
static volatile int private_value = 3;

SEC("socket") int objlink_second(void *ctx)
{
	return private_value + helper(private_value) + b_data;
}

BPF_LICENSE("GPL");
