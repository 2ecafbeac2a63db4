/* err_extern_plain: an extern variable with no section (neither __ksym
 * nor __kconfig): nothing in a BPF object can define it, so the reference
 * stays an undefined symbol.
 *
 * ELF reader: the relocation in "use_undefined" targets the undefined
 * global symbol "bpfkit_undefined" (section index SHN_UNDEF, no .ksyms or
 * .kconfig datasec entry).
 * Test: reading the object fails with an error naming the program and
 * "bpfkit_undefined" (an unsupported extern), not a panic.
 * Verified here: bpftool prog loadall fails (libbpf: "failed to find BTF
 * for extern 'bpfkit_undefined'": it has no datasec).
 */
#include "common.h"

extern int bpfkit_undefined;

SEC("tc")
int use_undefined(struct __sk_buff *skb)
{
	return bpfkit_undefined;
}

BPF_LICENSE("GPL");
