/* err_objlink_extern_type.c: declares objlink_b.c's int b_data as a
 * long. A test asserts: linking objlink_b then this fails with
 * "incompatible int" sizes 4 and 8 for b_data.
 */
#include "common.h"

extern long b_data;

SEC("socket") int extern_type_prog(void *ctx) { return b_data; }

BPF_LICENSE("GPL");
