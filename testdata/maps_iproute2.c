/* maps_iproute2: maps in iproute2's layout (struct bpf_elf_map, 9 x u32:
 * type, size_key, size_value, max_elem, flags, id, pinning, inner_id,
 * inner_idx) in SEC("maps"), as tc's own loader reads them, with programs
 * in iproute2-style sections ("classifier", "action").
 *
 * ELF reader: the map definitions are 36 bytes, not 20:
 *   counters: ARRAY 4/8/1, pinning PIN_GLOBAL_NS (2)
 *   flows: HASH 4/4/128, flags BPF_F_NO_PREALLOC, id 7, no pinning
 * A reader that supports this layout reports counters pinned by name; one
 * that does not must fail with an error naming the map and the unknown
 * non-zero fields (id/pinning), not misread them.
 *
 * Test (tc "classifier", 64-byte packet, N runs): returns TC_ACT_OK (0);
 * counters[0] == N. "act" (tc action) returns TC_ACT_OK and counts too.
 * Verified here: libbpf cannot read this layout; a throwaway copy with the
 * maps as BTF maps loaded and ran with a libbpf loader (counters[0] == N).
 */
#include "common.h"

struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

/* Values of bpf_elf_map.pinning. */
enum {
	PIN_NONE = 0,
	PIN_OBJECT_NS = 1,
	PIN_GLOBAL_NS = 2,
};

struct bpf_elf_map SEC("maps") counters = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 1,
	.pinning = PIN_GLOBAL_NS,
};

struct bpf_elf_map SEC("maps") flows = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u32),
	.max_elem = 128,
	.flags = BPF_F_NO_PREALLOC,
	.id = 7,
};

static __always_inline int count(struct __sk_buff *skb)
{
	__u32 zero = 0, len = skb->len;
	__u64 *n = bpf_map_lookup_elem(&counters, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
	bpf_map_update_elem(&flows, &len, &zero, BPF_ANY);
	return TC_ACT_OK;
}

SEC("classifier")
int cls(struct __sk_buff *skb)
{
	return count(skb);
}

SEC("action")
int act(struct __sk_buff *skb)
{
	return count(skb);
}

BPF_LICENSE("GPL");
