//go:build ignore

/* Counts the calls of execve(2) per CPU. */
#include "common.h"

char _license[] SEC("license") = "GPL";

/* Each CPU has its own copy of the value: no atomics needed, and user
 * space reads one value per possible CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} calls SEC(".maps");

SEC("kprobe/sys_execve")
int count_execve(struct pt_regs *ctx)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&calls, &zero);

	if (count)
		(*count)++;
	return 0;
}
