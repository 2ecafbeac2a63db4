/* err_core_missing: a CO-RE field access to a member the kernel's struct
 * does not have. The relocation cannot be resolved, so the loader poisons
 * the instruction (libbpf rewrites it into a call to an invalid helper,
 * 0xbad2310) instead of failing outright; the verifier then rejects the
 * program because the poisoned instruction is reachable.
 *
 * The local type is a flavor of task_struct (task_struct___missing), as a
 * program built with a vmlinux.h declares what the kernel lacks.
 *
 * ELF reader: one relocation of kind "field byte offset" on
 * task_struct___missing.bpfkit_no_such_field (access string 0:1).
 * Test (loader): loading "read_missing" fails with an error that names the
 * program, the relocation (task_struct___missing.bpfkit_no_such_field) and
 * reports that the field was not found in the kernel's BTF.
 * Verified here: bpftool prog loadall fails: libbpf logs "relo #0: no
 * matching targets found" and the verifier log shows "1: <invalid CO-RE
 * relocation>" for the poisoned instruction.
 */
#include "common.h"

struct task_struct___missing {
	int pid;
	int bpfkit_no_such_field;
} __core;

SEC("tc")
int read_missing(struct __sk_buff *skb)
{
	struct task_struct___missing *task = (void *)bpf_get_current_task_btf();

	return task->bpfkit_no_such_field;
}

BPF_LICENSE("GPL");
