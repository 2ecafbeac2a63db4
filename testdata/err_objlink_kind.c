/* err_objlink_kind.c: declares objlink_b.c's struct b_pair as an int. A
 * test asserts: linking objlink_b then this fails with "incompatible BTF
 * kinds struct and int" for b_pair.
 */
#include "common.h"

extern int b_pair;

SEC("socket") int kind_prog(void *ctx) { return b_pair; }

BPF_LICENSE("GPL");
