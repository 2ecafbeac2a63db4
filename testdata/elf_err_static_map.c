/* elf_err_static_map: a BTF map declared static. libbpf and this library
 * want maps to be global: a static one has no symbol of its own that a
 * program's relocation could name, so clang refers to it through the
 * ".maps" section symbol plus its offset.
 *
 * ELF reader: "counts" is a LOCAL symbol of .maps (and a static variable
 * in the BTF datasec); the ldimm64 in program "count" is relocated against
 * the section symbol of .maps with the map's offset in its immediate.
 * Reading fails with an error naming the section and the map:
 * section ".maps": map "counts" is static.
 * Verified here: bpftool prog loadall refuses it too (libbpf: "map
 * 'counts': unsupported map linkage static").
 */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} other SEC(".maps");

static struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tc")
int count(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&counts, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
	n = bpf_map_lookup_elem(&other, &zero);
	return n ? 0 : 1;
}

BPF_LICENSE("GPL");
