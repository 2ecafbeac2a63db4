/* maps_legacy: maps defined the pre-BTF way, as struct bpf_map_def
 * (5 x u32: type, key_size, value_size, max_entries, map_flags) in
 * SEC("maps"). The ELF reader finds them by symbol; the maps carry no BTF
 * key/value types.
 *
 * ELF reader: legacy_array: ARRAY 4/8/2; legacy_hash: HASH 4/8/16 with
 * BPF_F_NO_PREALLOC; legacy_percpu: PERCPU_ARRAY 4/4/1. "legacy_count"
 * references legacy_array and legacy_hash.
 *
 * Test (XDP, 64-byte packet, run N times): returns XDP_PASS;
 * legacy_array[1] == N, legacy_hash[64] == N.
 * Verified here: libbpf 1.x no longer reads SEC("maps"), so bpftool cannot
 * load this object. A throwaway copy with the same program and the maps
 * rewritten as BTF maps loaded and ran with a libbpf loader (N = 3:
 * legacy_array[1] = 3, legacy_hash[64] = 3).
 */
#include "common.h"

struct bpf_map_def SEC("maps") legacy_array = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 2,
};

struct bpf_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 16,
	.map_flags = BPF_F_NO_PREALLOC,
};

struct bpf_map_def SEC("maps") legacy_percpu = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 1,
};

SEC("xdp")
int legacy_count(struct xdp_md *ctx)
{
	__u32 one = 1, len = ctx->data_end - ctx->data;
	__u64 *n, first = 1;

	n = bpf_map_lookup_elem(&legacy_array, &one);
	if (n)
		__sync_fetch_and_add(n, 1);

	n = bpf_map_lookup_elem(&legacy_hash, &len);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&legacy_hash, &len, &first, BPF_NOEXIST);
	return XDP_PASS;
}

BPF_LICENSE("GPL");
