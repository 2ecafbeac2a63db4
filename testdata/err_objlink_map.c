/* err_objlink_map.c: declares objlink_b.c's shared_map (4 entries) as
 * an extern map of 8 entries. A test asserts: linking objlink_b then this
 * fails with "map max_entries mismatch" for shared_map.
 */
#include "common.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} shared_map __attribute__((section(".maps")));

SEC("socket") int map_prog(void *ctx)
{
	__u32 key = 0;
	return bpf_map_lookup_elem(&shared_map, &key) != 0;
}

BPF_LICENSE("GPL");
