/* ksyms_typed: typed .ksyms variables, per-CPU kernel variables whose type
 * the loader finds in the kernel's BTF (BTF_KIND_VAR):
 *   - runqueues: struct rq (a local CO-RE definition with one member, cpu);
 *   - bpf_prog_active: int;
 *   - bpfkit_missing_typed: a weak typed variable that does not exist.
 *
 * The kernel resolves a typed ksym's address with kallsyms, which holds data
 * symbols only with CONFIG_KALLSYMS_ALL. Without it (as on the 6.18 machine
 * here) loading fails with ENOENT and the log "ldimm64 failed to find the
 * address for kernel symbol 'runqueues'": a loader test should skip naming
 * CONFIG_KALLSYMS_ALL, or assert that error.
 *
 * Test where it loads (tc, 64-byte packet): "use_typed" returns 0 and sets
 * .bss rq_cpu_ok == 1 (this CPU's runqueues.cpu equals
 * bpf_get_smp_processor_id()), active_ok == 1, missing == 0.
 * Verified here: libbpf loader reaches the kernel, which refuses it as
 * described (no CONFIG_KALLSYMS_ALL).
 */
#include "common.h"

struct rq {
	int cpu;
} __core;

extern const struct rq runqueues __ksym;
extern const int bpf_prog_active __ksym;
extern const int bpfkit_missing_typed __ksym __weak;

static void *(*const bpf_this_cpu_ptr)(const void *percpu_ptr) = (void *)154;

__u32 rq_cpu_ok, active_ok;
__u64 missing;

SEC("tc")
int use_typed(struct __sk_buff *skb)
{
	struct rq *rq = bpf_this_cpu_ptr(&runqueues);

	rq_cpu_ok = rq->cpu == bpf_get_smp_processor_id();
	active_ok = bpf_this_cpu_ptr(&bpf_prog_active) != NULL;
	missing = (__u64)&bpfkit_missing_typed;
	return 0;
}

BPF_LICENSE("GPL");
