/* maps_btf: BTF map definitions in SEC(".maps"), one per map type or map
 * attribute, for the ELF reader (issue 5) and the loader (issue 7).
 *
 * The ELF reader should find (name: type, key size, value size,
 * max_entries, flags, extra):
 *   hash: HASH, 4, 8, 8             array: ARRAY, 4, 16 (struct value_t), 4
 *   percpu_hash: PERCPU_HASH 4/8/8  percpu_array: PERCPU_ARRAY 4/8/2
 *   lru_hash: LRU_HASH 8/8/16, flags BPF_F_NO_COMMON_LRU
 *   lru_percpu_hash: LRU_PERCPU_HASH 4/4/16
 *   lpm: LPM_TRIE, key struct lpm_key (8), 4, 16, BPF_F_NO_PREALLOC
 *   ringbuf: RINGBUF, 0, 0, 65536
 *   perf_events: PERF_EVENT_ARRAY, key_size/value_size 4 given as numbers
 *     (no BTF key/value types), max_entries 0 (the loader uses the number
 *     of possible CPUs)
 *   queue: QUEUE 0/4/8          stack: STACK 0/4/8
 *   bloom: BLOOM_FILTER 0/4/64, map_extra 3 (hash functions)
 *   numa: HASH 4/4/4, BPF_F_NUMA_NODE, numa_node 0
 *   mmapable: ARRAY 4/8/8, BPF_F_MMAPABLE
 *   pinned: HASH 4/4/4, pinning LIBBPF_PIN_BY_NAME
 *   sized: ARRAY with key_size 4 / value_size 12 as numbers, 2 entries
 *   sk_storage: SK_STORAGE 4/8/0, BPF_F_NO_PREALLOC
 *   task_storage: TASK_STORAGE 4/8/0, BPF_F_NO_PREALLOC
 *   sockmap: SOCKMAP 4/8/2       devmap: DEVMAP 4/4/2
 *   stack_trace: STACK_TRACE 4/1016 (127 frames)/16
 * (The arena map is in map_arena.c.)
 *
 * Test (loader): the collection loads; every map's info from the kernel
 * matches the spec above ("perf_events" gets max_entries = possible CPUs,
 * "pinned" is pinned as <pin path>/pinned). Run "use_maps" (XDP, 64-byte
 * packet): returns XDP_PASS; afterwards hash[1] == 64, array[0] == {1, 2, 64},
 * queue holds one value 7.
 * Verified here: bpftool prog loadall (creates every map, pins "pinned" in
 * /sys/fs/bpf) and a libbpf loader running use_maps.
 */
#include "common.h"

/* No padding: a test compares whole values. */
struct value_t {
	__u32 a;
	__u32 b;
	__u64 c;
};

struct lpm_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct value_t);
} array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} percpu_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, __u64);
	__type(value, __u64);
} lru_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} lru_percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u32);
} lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 65536);
} ringbuf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 4);
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u32);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 8);
	__type(value, __u32);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
	__uint(map_extra, 3);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__uint(map_flags, BPF_F_NUMA_NODE);
	__uint(numa_node, 0);
	__type(key, __u32);
	__type(value, __u32);
} numa SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} mmapable SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, __u32);
} pinned SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, 4);
	__uint(value_size, 12);
} sized SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} sk_storage SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} task_storage SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} sockmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} devmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64[127]);
} stack_trace SEC(".maps");

static long (*const bpf_map_push_elem)(void *map, const void *value, __u64 flags) = (void *)87;

SEC("xdp")
int use_maps(struct xdp_md *ctx)
{
	__u32 k0 = 0, k1 = 1, seven = 7;
	__u64 len = ctx->data_end - ctx->data;
	struct value_t v = {.a = 1, .b = 2, .c = len};

	bpf_map_update_elem(&hash, &k1, &len, BPF_ANY);
	bpf_map_update_elem(&array, &k0, &v, BPF_ANY);
	bpf_map_push_elem(&queue, &seven, BPF_ANY);
	return XDP_PASS;
}

BPF_LICENSE("GPL");
