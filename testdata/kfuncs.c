/* kfuncs: calls to kernel functions (.ksyms extern functions) from a
 * syscall program, each a different kfunc family that 6.18 allows there:
 *   - bpf_cpumask_create/set_cpu/weight/release (referenced object:
 *     acquire and release);
 *   - bpf_iter_num_new/next/destroy (an open-coded iterator);
 *   - bpf_dynptr_size (a kfunc taking a dynptr made by the helper
 *     bpf_dynptr_from_mem).
 *
 * Test (syscall program, BPF_PROG_TEST_RUN without context, repeat 0):
 * "use_kfuncs" returns 0; .bss: mask_weight == 2 (CPUs 0 and 1 set; the
 * mask is independent of the CPUs present), iter_sum == 45 (0 + ... + 9),
 * dynptr_size == 16.
 * Verified here: libbpf loader (values above).
 */
#include "common.h"

/* Defined, not just declared: a loader compares the kinds in the kfunc's
 * prototype with the kernel's, and a forward declaration is not a struct. */
struct bpf_cpumask {
};
struct cpumask {
};

extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;
extern void bpf_cpumask_set_cpu(__u32 cpu, struct bpf_cpumask *cpumask) __ksym;
extern __u32 bpf_cpumask_weight(const struct cpumask *cpumask) __ksym;

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

extern __u32 bpf_dynptr_size(const struct bpf_dynptr *p) __ksym;

__u32 mask_weight, iter_sum, dynptr_size;
char buf[16];

SEC("syscall")
int use_kfuncs(void *ctx)
{
	struct bpf_cpumask *mask;
	struct bpf_iter_num it;
	struct bpf_dynptr ptr;
	int *v;

	mask = bpf_cpumask_create();
	if (mask) {
		bpf_cpumask_set_cpu(0, mask);
		bpf_cpumask_set_cpu(1, mask);
		mask_weight = bpf_cpumask_weight((const struct cpumask *)mask);
		bpf_cpumask_release(mask);
	}

	iter_sum = 0;
	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it)))
		iter_sum += *v;
	bpf_iter_num_destroy(&it);

	bpf_dynptr_from_mem(buf, sizeof(buf), 0, &ptr);
	dynptr_size = bpf_dynptr_size(&ptr);
	return 0;
}

BPF_LICENSE("GPL");
