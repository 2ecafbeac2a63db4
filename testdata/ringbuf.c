/* ringbuf: records for the ringbuf package's Reader.
 *
 * Maps: events (BPF_MAP_TYPE_RINGBUF, 16 KiB; tests may change the size),
 * payload (one 512-byte value: the sample bytes the test wants).
 *
 * Test (xdp, BPF_PROG_TEST_RUN): the packet starts with struct cmd. Every
 * run numbers itself with seq (.bss, 0 for the first run) and, by cmd.op:
 *   OP_OUTPUT   bpf_ringbuf_output of the first cmd.size bytes of payload
 *               after writing seq (native byte order) into its first 8
 *               bytes: the sample is those cmd.size bytes (0..512);
 *   OP_SUBMIT   bpf_ringbuf_reserve of 16 bytes, filled with seq and bytes
 *               8..15 of payload, then bpf_ringbuf_submit;
 *   OP_DISCARD  the same reservation, then bpf_ringbuf_discard: no sample.
 * cmd.flags go to output, submit and discard (BPF_RB_NO_WAKEUP,
 * BPF_RB_FORCE_WAKEUP). The program returns XDP_PASS when the record went
 * out, XDP_DROP when the ring had no room, XDP_ABORTED for a bad command.
 */
#include "common.h"

static void *(*const bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*const bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;
static void (*const bpf_ringbuf_discard)(void *data, __u64 flags) = (void *)133;

#define MAX_SAMPLE 512

enum {
	OP_OUTPUT = 0,
	OP_SUBMIT = 1,
	OP_DISCARD = 2,
};

struct cmd {
	__u32 op;
	__u32 size;
	__u64 flags;
};

struct sample {
	__u64 seq;
	__u64 second;
	__u8 rest[MAX_SAMPLE - 16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sample);
} payload SEC(".maps");

__u64 seq;

SEC("xdp")
int emit(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cmd *c = data;
	struct sample *s;
	__u64 *rec;
	__u32 zero = 0, size;
	__u64 n;

	if ((void *)(c + 1) > data_end)
		return XDP_ABORTED;
	s = bpf_map_lookup_elem(&payload, &zero);
	if (!s)
		return XDP_ABORTED;
	n = __sync_fetch_and_add(&seq, 1);

	switch (c->op) {
	case OP_OUTPUT:
		size = c->size;
		if (size > MAX_SAMPLE)
			return XDP_ABORTED;
		s->seq = n;
		if (bpf_ringbuf_output(&events, s, size, c->flags))
			return XDP_DROP;
		return XDP_PASS;
	case OP_SUBMIT:
	case OP_DISCARD:
		rec = bpf_ringbuf_reserve(&events, 16, 0);
		if (!rec)
			return XDP_DROP;
		rec[0] = n;
		rec[1] = s->second;
		if (c->op == OP_SUBMIT)
			bpf_ringbuf_submit(rec, c->flags);
		else
			bpf_ringbuf_discard(rec, c->flags);
		return XDP_PASS;
	}
	return XDP_ABORTED;
}

BPF_LICENSE("GPL");
