//go:build ignore

/* bindings.c: the C behind bpf2go's own tests.
 *
 * Everything the generated bindings declare has a case here: maps with
 * struct, typedef'd and enum keys and values, a ring buffer, global
 * variables in .rodata, .data and .bss (structs, unions, arrays, enums), a
 * type only -type asks for (with a bitfield, a nested anonymous union and
 * padding), and two programs the test runs with BPF_PROG_TEST_RUN.
 * Self-contained: compiled with -nostdinc.
 */
typedef unsigned char __u8;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef long long __s64;

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

static void *(*const bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*const bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)130;

char _license[] SEC("license") = "GPL";

enum kind {
	KIND_NONE,
	KIND_PACKET = 5,
	KIND_TIMER,
};

/* A typedef gives an anonymous struct its Go name. */
typedef struct {
	__u64 when;
	_Bool seen;
	enum kind kind;
	char comm[16];
} event_t;

/* Tail padding: 12 bytes of fields in 16. */
struct counter {
	__u64 packets;
	__u32 bytes;
};

union value {
	__u32 small;
	__u64 big;
};

/* Only a pointer to it is global, so only -type request declares it. */
struct request {
	__u8 flags : 3;
	__u8 prio : 5;
	union {
		__u32 id;
		__u32 tag;
	};
	__s64 deadline;
};

struct {
	__uint(type, 1 /* BPF_MAP_TYPE_HASH */);
	__type(key, enum kind);
	__type(value, event_t);
	__uint(max_entries, 8);
} events_by_kind SEC(".maps");

struct {
	__uint(type, 2 /* BPF_MAP_TYPE_ARRAY */);
	__type(key, __u32);
	__type(value, struct counter);
	__uint(max_entries, 1);
} counters SEC(".maps");

struct {
	__uint(type, 27 /* BPF_MAP_TYPE_RINGBUF */);
	__uint(max_entries, 4096);
} event_ring SEC(".maps");

volatile const __u32 packet_limit = 100;
volatile const enum kind default_kind = KIND_PACKET;
volatile const struct counter start_values[2];
struct counter totals = { .packets = 1 };
union value last_value;
__u64 runs;
struct request *pending;

SEC("socket")
int count_packets(void *skb)
{
	__u32 zero = 0;
	struct counter *c = bpf_map_lookup_elem(&counters, &zero);

	runs++;
	if (!c)
		return 0;
	c->packets++;
	c->bytes += packet_limit;
	totals.packets += start_values[1].packets;
	last_value.big = c->packets;
	return default_kind;
}

SEC("xdp")
int report(void *ctx)
{
	event_t ev = { .when = runs, .seen = 1, .kind = default_kind };

	bpf_ringbuf_output(&event_ring, &ev, sizeof(ev), 0);
	return 2; /* XDP_PASS */
}
