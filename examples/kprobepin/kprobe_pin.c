//go:build ignore

/* Counts the calls of execve(2) in a map pinned on the BPF file system, so
 * that the count outlives the program that loaded it. */
#include "common.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	/* Pinned as <PinPath>/calls; a later load reuses the pinned map. */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} calls SEC(".maps");

SEC("kprobe/sys_execve")
int count_execve(struct pt_regs *ctx)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&calls, &zero);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}
