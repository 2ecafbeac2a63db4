/* link_tracing: kprobes and BTF-based tracing programs, each counting its
 * runs into a .bss counter named after it. On the 6.18 machine here the
 * kprobe programs load but cannot attach (CONFIG_KPROBES is off:
 * EOPNOTSUPP), fentry/fexit/fmod_ret/lsm programs get EPERM at load, and
 * tp_btf loads and attaches. The qemu VM tests run the rest on other
 * kernels; the tests here skip naming the missing feature.
 *   "kp" (kprobe), "kretp" (kretprobe), "kp_multi" (kprobe.multi),
 *   "kretp_multi" (kretprobe.multi): no target in the section, the test
 *     chooses the kernel function when attaching (e.g. bpf_fentry_test1);
 *   "on_fentry" (fentry/bpf_fentry_test1), "on_fexit"
 *     (fexit/bpf_fentry_test1): BPF_PROG_TEST_RUN of a tracing program
 *     calls bpf_fentry_test1, so running on_fentry itself triggers both;
 *     on_fexit also stores the traced function's return value in
 *     fexit_ret (bpf_fentry_test1(1) returns 2);
 *   "on_fmod_ret" (fmod_ret/bpf_modify_return_test): counts and returns 0,
 *     leaving the traced function's result unchanged;
 *   "on_tp_btf" (tp_btf/sys_enter): counts syscalls of target_tgid;
 *   "on_file_open" (lsm/file_open): counts, returns 0 (allow).
 * Test: attach each, trigger (the traced function, a syscall, open(2)),
 * read its counter >= 1; close the link, the counter stops.
 * Verified here with a libbpf loader, one program at a time: kp, kretp,
 * kp_multi, kretp_multi and on_tp_btf load (on_tp_btf also attaches);
 * attaching kp fails with EOPNOTSUPP; on_fentry, on_fexit, on_fmod_ret and
 * on_file_open fail to load with EPERM.
 */
#include "common.h"

const volatile __u32 target_tgid;

__u64 kp_count, kretp_count, kp_multi_count, kretp_multi_count;
__u64 fentry_count, fexit_count, fmod_ret_count, tp_btf_count, lsm_count;
__s64 fexit_ret;

SEC("kprobe")
int kp(void *ctx)
{
	__sync_fetch_and_add(&kp_count, 1);
	return 0;
}

SEC("kretprobe")
int kretp(void *ctx)
{
	__sync_fetch_and_add(&kretp_count, 1);
	return 0;
}

SEC("kprobe.multi")
int kp_multi(void *ctx)
{
	__sync_fetch_and_add(&kp_multi_count, 1);
	return 0;
}

SEC("kretprobe.multi")
int kretp_multi(void *ctx)
{
	__sync_fetch_and_add(&kretp_multi_count, 1);
	return 0;
}

/* Tracing programs get their arguments as an array of u64. */
SEC("fentry/bpf_fentry_test1")
int on_fentry(__u64 *ctx)
{
	__sync_fetch_and_add(&fentry_count, 1);
	return 0;
}

/* bpf_fentry_test1(int a): ctx[0] = a, ctx[1] = return value. */
SEC("fexit/bpf_fentry_test1")
int on_fexit(__u64 *ctx)
{
	__sync_fetch_and_add(&fexit_count, 1);
	fexit_ret = (int)ctx[1];
	return 0;
}

SEC("fmod_ret/bpf_modify_return_test")
int on_fmod_ret(__u64 *ctx)
{
	__sync_fetch_and_add(&fmod_ret_count, 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int on_tp_btf(__u64 *ctx)
{
	if (bpf_get_current_pid_tgid() >> 32 == target_tgid)
		__sync_fetch_and_add(&tp_btf_count, 1);
	return 0;
}

SEC("lsm/file_open")
int on_file_open(__u64 *ctx)
{
	__sync_fetch_and_add(&lsm_count, 1);
	return 0;
}

BPF_LICENSE("GPL");
