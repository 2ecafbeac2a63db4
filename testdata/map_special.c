/* map_special: map values holding kernel-managed fields, which the kernel
 * finds through the value's BTF: a bpf_spin_lock, a bpf_timer and a
 * referenced kptr (struct task_struct __kptr).
 *
 * ELF reader: the values of "locked", "timers" and "kptrs" are BTF structs
 * lock_val, timer_val and kptr_val; kptr_val.task is a pointer with the
 * type tag "kptr" to struct task_struct (a local CO-RE definition). The
 * kfuncs bpf_task_from_pid and bpf_task_release are .ksyms externs.
 *
 * Test (tc, BPF_PROG_TEST_RUN with a 64-byte packet, N runs): "special"
 * returns N (the counter it increments under the spin lock);
 * timers[0].armed == 1 (the timer is initialised and given a callback but
 * never started, so nothing is asynchronous); kptrs[0].pid == 2 (it stores
 * a reference to PID 2 of the initial PID namespace, kthreadd, which every
 * Linux system has; released when the map is freed). Reading kptrs[0] from
 * user space shows the kptr field as zero.
 * Verified here: bpftool prog loadall; libbpf loader, 3 runs: returned 1, 2,
 * 3; armed 1; pid 2.
 */
#include "common.h"

struct task_struct {
	int pid;
} __core;

struct lock_val {
	struct bpf_spin_lock lock;
	__u32 counter;
};

struct timer_val {
	struct bpf_timer timer;
	__u64 armed;
};

struct kptr_val {
	struct task_struct __kptr *task;
	__u64 pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lock_val);
} locked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct timer_val);
} timers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kptr_val);
} kptrs SEC(".maps");

extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

#define CLOCK_MONOTONIC 1

__u64 fired;

static int timer_cb(void *map, __u32 *key, struct timer_val *val)
{
	fired++;
	return 0;
}

SEC("tc")
int special(struct __sk_buff *skb)
{
	__u32 zero = 0, n;
	struct lock_val *l = bpf_map_lookup_elem(&locked, &zero);
	struct timer_val *t = bpf_map_lookup_elem(&timers, &zero);
	struct kptr_val *k = bpf_map_lookup_elem(&kptrs, &zero);
	struct task_struct *task, *old;

	if (!l || !t || !k)
		return -1;

	bpf_spin_lock(&l->lock);
	n = ++l->counter;
	bpf_spin_unlock(&l->lock);

	/* -EBUSY after the first run: the timer is already initialised. */
	bpf_timer_init(&t->timer, &timers, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&t->timer, timer_cb);
	t->armed = 1;

	task = bpf_task_from_pid(2);
	if (task) {
		k->pid = task->pid;
		old = bpf_kptr_xchg(&k->task, task);
		if (old)
			bpf_task_release(old);
	}
	return n;
}

BPF_LICENSE("GPL");
