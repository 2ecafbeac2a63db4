//go:build ignore

/* Counts the calls of execve(2) with a kprobe on the kernel's handler. */
#include "common.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} calls SEC(".maps");

/* The section names the default attach point; the Go side attaches
 * explicitly with link.Kprobe. */
SEC("kprobe/sys_execve")
int count_execve(struct pt_regs *ctx)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&calls, &zero);

	/* Several CPUs may run execve at once: add atomically. */
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}
