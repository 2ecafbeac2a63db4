/* map_values: maps whose contents are given in the object through
 * `.values` initializers (relocations in .rel.maps): a program array, an
 * array of maps and a hash of maps with an inline inner map definition.
 *
 * ELF reader:
 *   - jump_table: PROG_ARRAY, key_size 4, value_size 4 (implied), 4
 *     entries; contents {1: tail_1, 2: tail_2};
 *   - outer_array: ARRAY_OF_MAPS, 2 entries, inner map spec = struct
 *     inner_map (ARRAY u32 -> u32, 1 entry); contents {0: inner_a,
 *     1: inner_b};
 *   - outer_hash: HASH_OF_MAPS, 4 entries, inner map spec given inline
 *     (HASH u32 -> u64, 2 entries); contents {3: inner_h};
 *   - outer_empty: ARRAY_OF_MAPS with an inline inner spec and no values.
 *
 * Test (tc, BPF_PROG_TEST_RUN with a 64-byte packet), after loading, which
 * fills the outer maps and the program array:
 *   - "entry" returns 42: it tail-calls jump_table[1] (tail_1), which
 *     tail-calls jump_table[2] (tail_2), which returns 42;
 *   - "entry_miss" returns 7: jump_table[3] is empty, the tail call falls
 *     through;
 *   - "read_inner" returns 0 and writes inner_b[0] = 5 and inner_h[7] = 9
 *     through the outer maps (it returns 1 or 2 if an outer slot is empty).
 * Verified here: bpftool prog loadall, libbpf loader (42, 7, 0; inner_b and
 * inner_h contents as above).
 */
#include "common.h"

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} inner_h SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer_array SEC(".maps") = {
	.values = {[0] = &inner_a, [1] = &inner_b},
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 2);
		__type(key, __u32);
		__type(value, __u64);
	});
} outer_hash SEC(".maps") = {
	.values = {[3] = (void *)&inner_h},
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(max_entries, 1);
		__type(key, __u32);
		__type(value, __u32);
	});
} outer_empty SEC(".maps");

int tail_1(struct __sk_buff *skb);
int tail_2(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	/* A number, not a BTF type: the kernel refuses BTF key/value types
	 * for program arrays. */
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct __sk_buff *));
} jump_table SEC(".maps") = {
	.values = {[1] = (void *)&tail_1, [2] = (void *)&tail_2},
};

SEC("tc")
int tail_2(struct __sk_buff *skb)
{
	return 42;
}

SEC("tc")
int tail_1(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jump_table, 2);
	return 2;
}

SEC("tc")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jump_table, 1);
	return 1;
}

SEC("tc")
int entry_miss(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jump_table, 3);
	return 7;
}

SEC("tc")
int read_inner(struct __sk_buff *skb)
{
	__u32 one = 1, three = 3, zero = 0, seven = 7, five = 5;
	__u64 nine = 9;
	void *inner;

	inner = bpf_map_lookup_elem(&outer_array, &one);
	if (!inner)
		return 1;
	bpf_map_update_elem(inner, &zero, &five, BPF_ANY);

	inner = bpf_map_lookup_elem(&outer_hash, &three);
	if (!inner)
		return 2;
	bpf_map_update_elem(inner, &seven, &nine, BPF_ANY);
	return 0;
}

BPF_LICENSE("GPL");
