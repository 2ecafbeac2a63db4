/* err_static_reloc: the program loads the address of a static variable
 * that lives in a section no loader turns into a map ("bpfkit_unknown" is
 * neither .data/.rodata/.bss nor a map section), so the relocation of the
 * ldimm64 has nothing to point at.
 *
 * ELF reader: the ldimm64 at instruction 0 of program "use_static" has an
 * R_BPF_64_64 relocation against the section symbol "bpfkit_unknown"
 * (clang refers to statics through their section; the local symbol
 * "hidden_counter" sits at offset 0 of it).
 * Test: reading or loading the object fails with an error naming the
 * program ("use_static") and the section ("bpfkit_unknown"); it must not
 * crash nor silently emit a zero address.
 * Verified here: bpftool prog loadall fails; libbpf reports "bad map relo
 * against 'bpfkit_unknown' in section 'bpfkit_unknown'".
 */
#include "common.h"

static __u32 hidden_counter SEC("bpfkit_unknown") = 1;

SEC("tc")
int use_static(struct __sk_buff *skb)
{
	return hidden_counter;
}

BPF_LICENSE("GPL");
