/* link_iter: BPF iterators (BPF_LINK_CREATE with BPF_TRACE_ITER, then
 * BPF_ITER_CREATE and read(2)).
 *   "dump_task" (iter/task): writes one line per task, "<tgid> <pid>\n",
 *     with bpf_seq_printf;
 *   "dump_map" (iter/bpf_map): writes one line per BPF map, "map <id>\n"
 *     (a local struct bpf_map with the member id, read with CO-RE).
 * Test: create the iterator, read it to EOF: the task dump has a line
 * "<getpid()> <gettid()>" for the test thread; the map dump has a line
 * with the id of a map the test created. A second read of the same
 * iterator fd returns EOF.
 * Verified here: bpftool prog loadall; bpftool iter pin + cat of the pin
 * printed the task and map lines.
 */
#include "common.h"

struct task_struct {
	int pid;
	int tgid;
} __core;

struct bpf_map {
	__u32 id;
} __core;

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __core;

struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
} __core;

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	static const char fmt[] = "%d %d\n";
	__u64 args[2];

	if (!task)
		return 0;
	args[0] = task->tgid;
	args[1] = task->pid;
	bpf_seq_printf(ctx->meta->seq, fmt, sizeof(fmt), args, sizeof(args));
	return 0;
}

SEC("iter/bpf_map")
int dump_map(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *map = ctx->map;
	static const char fmt[] = "map %u\n";
	__u64 id;

	if (!map)
		return 0;
	id = map->id;
	bpf_seq_printf(ctx->meta->seq, fmt, sizeof(fmt), &id, sizeof(id));
	return 0;
}

BPF_LICENSE("GPL");
