/* link_perf_event: a perf_event program (BPF_PROG_TYPE_PERF_EVENT)
 * counting the samples of the event it is attached to into .bss
 * sample_count.
 * Test: open a software event (PERF_COUNT_SW_CPU_CLOCK, sample_period
 * 100000, on the current thread or CPU 0), attach (perf link or
 * PERF_EVENT_IOC_SET_BPF), spin the CPU until sample_count >= 1 (bounded
 * by a deadline, no sleep-based sync).
 * Verified here: bpftool prog loadall.
 */
#include "common.h"

__u64 sample_count;

SEC("perf_event")
int on_sample(void *ctx)
{
	__sync_fetch_and_add(&sample_count, 1);
	return 0;
}

BPF_LICENSE("GPL");
