//go:build ignore

/* Counts thread renames (prctl(PR_SET_NAME), writes to /proc/.../comm) per
 * new name, from the task/task_rename tracepoint. */
#include "common.h"

char _license[] SEC("license") = "GPL";

/* The tracepoint's record, as in its format file
 * (/sys/kernel/tracing/events/task/task_rename/format). Declared for CO-RE,
 * with only the member we read: the loader finds its offset in the
 * kernel's BTF, so kernels that lay the record out differently work too. */
struct trace_event_raw_task_rename {
	char newcomm[16];
} __core;

struct name {
	__u8 comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct name);
	__type(value, __u64);
	__uint(max_entries, 256);
} renames SEC(".maps");

SEC("tracepoint/task/task_rename")
int count_renames(struct trace_event_raw_task_rename *ctx)
{
	struct name key = {};
	__u64 one = 1, *count;

	bpf_probe_read_kernel(&key.comm, sizeof(key.comm), ctx->newcomm);
	count = bpf_map_lookup_elem(&renames, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&renames, &key, &one, BPF_NOEXIST);
	return 0;
}
