//go:build ignore

/* Sends an event to user space for every program started (execve(2)),
 * through a ring buffer, from the sched/sched_process_exec tracepoint. */
#include "common.h"

char _license[] SEC("license") = "GPL";

/* The tracepoint's record, for CO-RE: the file name is a __data_loc field,
 * a u32 whose low half is the offset of the string in the record. */
struct trace_event_raw_sched_process_exec {
	__u32 __data_loc_filename;
} __core;

/* One event. bpf2go declares it in Go as bpfEvent: it is the ring
 * buffer's value type below (and main.go names it with -type as well). */
struct event {
	__u32 pid;
	__u8 comm[16];
	__u8 filename[64];
};

/* The ring buffer is shared by all CPUs; its size is a power of two
 * multiple of the page size. The kernel ignores a value type for ring
 * buffers (the loader drops it), but it puts struct event into BTF. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
	__type(value, struct event);
} events SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int report_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	/* Reserve space in the ring and fill it in place: no copy. */
	struct event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return 0; /* the ring is full: the event is lost */

	ev->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
	__u32 offset = ctx->__data_loc_filename & 0xffff;
	bpf_probe_read_kernel_str(&ev->filename, sizeof(ev->filename), (void *)ctx + offset);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
