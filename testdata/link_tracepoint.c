/* link_tracepoint: tracepoint and raw tracepoint programs that count their
 * runs, for the link tests (issue 11).
 *   - "tp_getpid": tracepoint syscalls/sys_enter_getpid (perf event link or
 *     BPF_LINK_CREATE), counts into .bss getpid_count;
 *   - "raw_sys_enter": raw tracepoint sys_enter (BPF_RAW_TRACEPOINT_OPEN),
 *     counts into .bss raw_count the syscalls made by the thread group
 *     target_tgid (a .rodata constant the test sets before loading).
 * Test: attach, call getpid(2) N times (from the test's own process);
 * getpid_count >= N (other processes calling getpid count too) and
 * raw_count >= N; close the links, call getpid again: the counters stop.
 * Attaching the tracepoint needs tracefs (mount -t tracefs tracefs
 * /sys/kernel/tracing if it is missing; without it: ENOENT).
 * Verified here: bpftool prog loadall; libbpf attach of each, then 5
 * getpid(2) calls: getpid_count 5.
 */
#include "common.h"

const volatile __u32 target_tgid;
__u64 getpid_count, raw_count;

SEC("tracepoint/syscalls/sys_enter_getpid")
int tp_getpid(void *ctx)
{
	__sync_fetch_and_add(&getpid_count, 1);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (bpf_get_current_pid_tgid() >> 32 == target_tgid)
		__sync_fetch_and_add(&raw_count, 1);
	return 0;
}

BPF_LICENSE("GPL");
