/* err_objlink_strong.c: a second strong definition of b_func, which
 * objlink_b.c defines too. A test asserts: linking objlink_b then this
 * fails with "conflicting non-weak definitions" naming b_func.
 */
#include "common.h"

__noinline int b_func(int x) { return x + 1; }

SEC("socket") int strong_prog(void *ctx) { return b_func(1); }

BPF_LICENSE("GPL");
