/* core: one CO-RE relocation of every kind against types of the running
 * kernel, with results written to .bss globals so a test can compare them
 * with the kernel's BTF. Local types are minimal definitions named like the
 * kernel's (preserve_access_index), flavors (___suffix) included.
 *
 * Relocations (kind: expression -> global):
 *   field byte offset: task_struct.pid -> pid_offset; every read of a __core
 *     struct member (task->pid, task->tgid, kskb->len) is one too
 *   field byte size: task_struct.pid -> pid_size (4)
 *   field exists: task_struct.pid -> pid_exists (1);
 *     task_struct___flavor.bpfkit_missing_field -> missing_field_exists (0)
 *   field signed: task_struct.pid -> pid_signed (1); sk_buff.len ->
 *     len_signed (0)
 *   field lshift/rshift (with byte offset and size, a bitfield read):
 *     sk_buff.pkt_type (3 bits) -> pkt_type_offset, pkt_type_size,
 *     pkt_type_lshift, pkt_type_rshift, and the value -> pkt_type
 *   type id local: struct task_struct -> local_type_id (its id in this
 *     object's BTF)
 *   type id target: struct task_struct -> target_type_id (its id in
 *     vmlinux BTF)
 *   type exists: task_struct -> type_exists (1); bpfkit_missing_type ->
 *     missing_type_exists (0)
 *   type size: task_struct -> type_size (the kernel's sizeof)
 *   type matches: task_struct -> type_matches (1); task_struct___bad (pid
 *     declared as a pointer) -> bad_matches (0)
 *   enum value exists: BPF_FUNC_loop -> enum_exists (1);
 *     BPF_FUNC_bpfkit_missing -> enum_missing_exists (0)
 *   enum value: BPF_FUNC_loop (BPF_FUNC_loop___local = 1000 in the local
 *     flavor enum bpf_func_id___local) -> enum_value (181)
 *
 * Test (tc, BPF_PROG_TEST_RUN with a 64-byte packet whose destination MAC
 * is 00:00:00:00:00:00, which the test device "lo" owns): "core_relos"
 * returns 0; task_pid/task_tgid equal the low/high halves of
 * bpf_get_current_pid_tgid (tid/pid of the calling thread, stored in
 * cur_tid/cur_pid), skb_len == 64 (read through bpf_cast_to_kern_ctx),
 * pkt_type == 0 (PACKET_HOST; 3, PACKET_OTHERHOST, for another unicast
 * MAC); the other globals as listed above. On the 6.18.44 x86_64 kernel
 * here: pid_offset 1264, type_size 3264, target_type_id 114,
 * local_type_id 13, pkt_type_offset 128, pkt_type_size 1,
 * pkt_type_lshift 61, pkt_type_rshift 61.
 * Verified here: bpftool prog loadall; libbpf loader (values above).
 */
#include "common.h"

struct task_struct {
	int pid;
	int tgid;
} __core;

struct task_struct___flavor {
	int pid;
	int bpfkit_missing_field;
} __core;

struct task_struct___bad {
	struct task_struct___bad *pid;
} __core;

struct sk_buff {
	unsigned int len;
	__u8 pkt_type : 3;
} __core;

struct bpfkit_missing_type {
	int x;
} __core;

/* The kernel's enum bpf_func_id, with a deliberately wrong local value. A
 * flavor with flavored enumerators, so that it can sit beside the kernel's
 * own definition in a vmlinux.h. */
enum bpf_func_id___local {
	BPF_FUNC_loop___local = 1000,
	BPF_FUNC_bpfkit_missing = 2000,
};

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

__u32 pid_offset, pid_size, pid_exists, missing_field_exists, pid_signed, len_signed;
__u32 pkt_type_offset, pkt_type_size, pkt_type_lshift, pkt_type_rshift, pkt_type;
__u32 local_type_id, target_type_id, type_exists, missing_type_exists, type_size;
__u32 type_matches, bad_matches, enum_exists, enum_missing_exists;
__u64 enum_value;
__u32 task_pid, task_tgid, cur_tid, cur_pid, skb_len;

SEC("tc")
int core_relos(struct __sk_buff *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_struct___flavor *flavor = (void *)task;
	struct task_struct___bad *bad = (void *)task;
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(ctx);
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 bits = 0;

	pid_offset = bpf_core_field_offset(task->pid);
	pid_size = bpf_core_field_size(task->pid);
	pid_exists = bpf_core_field_exists(task->pid);
	missing_field_exists = bpf_core_field_exists(flavor->bpfkit_missing_field);
	pid_signed = bpf_core_field_signed(task->pid);
	len_signed = bpf_core_field_signed(kskb->len);

	pkt_type_offset = bpf_core_field_offset(kskb->pkt_type);
	pkt_type_size = bpf_core_field_size(kskb->pkt_type);
	pkt_type_lshift = bpf_core_field_lshift(kskb->pkt_type);
	pkt_type_rshift = bpf_core_field_rshift(kskb->pkt_type);
	bpf_probe_read_kernel(&bits, pkt_type_size & 7, (void *)kskb + pkt_type_offset);
	bits <<= pkt_type_lshift;
	bits >>= pkt_type_rshift;
	pkt_type = bits;

	local_type_id = bpf_core_type_id_local(struct task_struct);
	target_type_id = bpf_core_type_id_kernel(struct task_struct);
	type_exists = bpf_core_type_exists(struct task_struct);
	missing_type_exists = bpf_core_type_exists(struct bpfkit_missing_type);
	type_size = bpf_core_type_size(struct task_struct);
	type_matches = bpf_core_type_matches(struct task_struct);
	bad_matches = bpf_core_type_matches(struct task_struct___bad);

	enum_exists = bpf_core_enum_value_exists(enum bpf_func_id___local, BPF_FUNC_loop___local);
	enum_missing_exists = bpf_core_enum_value_exists(enum bpf_func_id___local, BPF_FUNC_bpfkit_missing);
	enum_value = bpf_core_enum_value(enum bpf_func_id___local, BPF_FUNC_loop___local);

	task_pid = task->pid;
	task_tgid = task->tgid;
	cur_tid = (__u32)pid_tgid;
	cur_pid = pid_tgid >> 32;
	skb_len = kskb->len;
	return 0;
}

BPF_LICENSE("GPL");
