/* err_objlink_section.c: a weak weak_value in .bss, which objlink_b.c
 * defines in .data. A test asserts: linking objlink_b then this fails with
 * "section mismatch" for weak_value.
 */
#include "common.h"

__weak int weak_value;

SEC("socket") int section_prog(void *ctx) { return weak_value; }

BPF_LICENSE("GPL");
