/* err_objlink_func_proto.c: declares objlink_b.c's b_func(int) with two
 * parameters. A test asserts: linking objlink_b then this fails with
 * "incompatible number of func_proto params 1 and 2" for b_func.
 */
#include "common.h"

extern int b_func(int x, int y);

SEC("socket") int func_proto_prog(void *ctx) { return b_func(1, 2); }

BPF_LICENSE("GPL");
