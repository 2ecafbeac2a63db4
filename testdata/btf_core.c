/* btf_core: CO-RE relocations of the shapes core.c does not cover, for the
 * btf package's comparison with libbpf's decisions:
 *   - an array element inside a struct: task_struct.comm[3] (access 0:N:3),
 *     its size (1) and the whole array's size (16) -> comm3, comm3_size,
 *     comm_size;
 *   - a member reached through an anonymous union of the kernel's struct
 *     while the local struct has it at the top: sk_buff.sk -> sk_offset;
 *   - a nested struct member: task_struct.thread_info.flags ->
 *     ti_flags_offset;
 *   - type size and type matches on a typedef (pid_t) -> pid_t_size (4),
 *     pid_t_matches (1); local type id of a union -> union_local_id;
 *   - a 64-bit enum value: PERF_CONTEXT_KERNEL of enum
 *     perf_callchain_context, deliberately wrong locally (in the flavor
 *     perf_callchain_context___local) -> ctx_kernel (0xffffffffffffff80,
 *     (__u64)-128);
 *   - a read of a field the kernel lacks (in the flavor task_struct___gone),
 *     guarded by field_exists: libbpf poisons it and the verifier drops it
 *     as dead code -> gone stays 0.
 * Test: btf's TestCORERelocateMatchesLibbpf; "core_shapes" (tc) returns 0.
 * Verified here: bpftool prog loadall and prog run (returns 0).
 */
#include "common.h"

typedef int pid_t;

struct thread_info {
	unsigned long flags;
} __core;

struct task_struct {
	struct thread_info thread_info;
	char comm[16];
} __core;

/* A member the kernel lacks, in a flavor of task_struct. */
struct task_struct___gone {
	int bpfkit_gone;
} __core;

struct sock;

struct sk_buff {
	struct sock *sk;
} __core;

union bpfkit_local_union {
	int a;
	long b;
};

/* A flavor with a flavored enumerator: it can sit beside the kernel's enum
 * in a vmlinux.h. */
enum perf_callchain_context___local {
	PERF_CONTEXT_KERNEL___local = 0xffffffff00000001ULL,
};

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

__u32 comm3, comm3_size, comm_size, sk_offset, ti_flags_offset;
__u32 pid_t_size, pid_t_matches, union_local_id, gone;
__u64 ctx_kernel;

SEC("tc")
int core_shapes(struct __sk_buff *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(ctx);
	struct task_struct___gone *gone_task = (void *)task;

	comm3 = task->comm[3];
	comm3_size = bpf_core_field_size(task->comm[3]);
	comm_size = bpf_core_field_size(task->comm);
	sk_offset = bpf_core_field_offset(kskb->sk);
	ti_flags_offset = bpf_core_field_offset(task->thread_info.flags);

	pid_t_size = bpf_core_type_size(pid_t);
	pid_t_matches = bpf_core_type_matches(pid_t);
	union_local_id = bpf_core_type_id_local(union bpfkit_local_union);
	ctx_kernel = bpf_core_enum_value(enum perf_callchain_context___local, PERF_CONTEXT_KERNEL___local);

	if (bpf_core_field_exists(gone_task->bpfkit_gone))
		gone = gone_task->bpfkit_gone;
	return 0;
}

BPF_LICENSE("GPL");
