/* ksyms: externs in section .ksyms, resolved by the loader against the
 * kernel's BTF (kfuncs) or /proc/kallsyms (typeless variables). Typed
 * variables are in ksyms_typed.c: the kernel resolves them through
 * kallsyms, which lacks data symbols without CONFIG_KALLSYMS_ALL (as here).
 *   - __start_BTF, __stop_BTF: typeless (const void) symbols: the loader
 *     writes their kallsyms address into the ldimm64;
 *   - bpfkit_missing_var: weak typed variable that does not exist (0);
 *   - bpf_task_from_pid, bpf_task_acquire, bpf_task_release: kfuncs (extern
 *     functions), called;
 *   - bpf_bpfkit_missing_kfunc: weak kfunc that does not exist; its call is
 *     guarded by a test of its address, so the verifier drops it as dead
 *     code.
 *
 * Test (tc, BPF_PROG_TEST_RUN with a 64-byte packet): "use_ksyms" returns 0
 * and sets .bss:
 *   btf_start, btf_end == the /proc/kallsyms addresses of __start_BTF and
 *     __stop_BTF (root with kptr_restrict 0 to read them; btf_end > btf_start),
 *   missing_var == 0 (address of the absent weak variable),
 *   missing_kfunc == 0, task_pid == 2 (kthreadd, acquired twice and
 *     released twice).
 * Verified here: bpftool prog loadall; libbpf loader (values above, the
 * addresses matching /proc/kallsyms).
 */
#include "common.h"

struct task_struct {
	int pid;
} __core;

extern const void __start_BTF __ksym;
extern const void __stop_BTF __ksym;
extern const int bpfkit_missing_var __ksym __weak;

extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern void bpf_bpfkit_missing_kfunc(void) __ksym __weak;

__u32 missing_kfunc, task_pid;
__u64 btf_start, btf_end, missing_var;

SEC("tc")
int use_ksyms(struct __sk_buff *skb)
{
	struct task_struct *t, *t2;

	btf_start = (__u64)&__start_BTF;
	btf_end = (__u64)&__stop_BTF;
	missing_var = (__u64)&bpfkit_missing_var;

	if (bpf_bpfkit_missing_kfunc) {
		bpf_bpfkit_missing_kfunc();
		missing_kfunc = 1;
	}

	t = bpf_task_from_pid(2);
	if (t) {
		t2 = bpf_task_acquire(t);
		if (t2) {
			task_pid = t2->pid;
			bpf_task_release(t2);
		}
		bpf_task_release(t);
	}
	return 0;
}

BPF_LICENSE("GPL");
