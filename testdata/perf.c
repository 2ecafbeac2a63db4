/* perf: samples for the perf package's Reader.
 *
 * Maps: events (BPF_MAP_TYPE_PERF_EVENT_ARRAY, one entry per possible CPU,
 * filled by the Reader), payload (one 512-byte value: the sample bytes the
 * test wants).
 *
 * Test (xdp, BPF_PROG_TEST_RUN): the packet starts with struct cmd. Every
 * run numbers itself with seq (.bss, 0 for the first run), writes seq
 * (native byte order) into the first 8 bytes of payload and sends the
 * first cmd.size bytes (0..512) with bpf_perf_event_output to the ring of
 * the CPU it runs on. The Reader sees the sample padded with 0 to 7 bytes
 * so that the raw record is 8-byte aligned. The program returns XDP_PASS
 * when the sample went out, XDP_DROP when the helper failed (ring full:
 * ENOSPC, the kernel counts a lost sample; no ring for this CPU: ENOENT),
 * XDP_ABORTED for a bad command.
 */
#include "common.h"

#define MAX_SAMPLE 512
#define BPF_F_CURRENT_CPU 0xffffffffULL

struct cmd {
	__u32 size;
	__u32 unused;
};

struct sample {
	__u64 seq;
	__u8 rest[MAX_SAMPLE - 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 4);
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
	__u32 zero = 0, size;

	if ((void *)(c + 1) > data_end)
		return XDP_ABORTED;
	s = bpf_map_lookup_elem(&payload, &zero);
	if (!s)
		return XDP_ABORTED;
	s->seq = __sync_fetch_and_add(&seq, 1);
	size = c->size;
	if (size > MAX_SAMPLE)
		return XDP_ABORTED;
	if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, s, size))
		return XDP_DROP;
	return XDP_PASS;
}

BPF_LICENSE("GPL");
