/* err_objlink_struct.c: declares objlink_b.c's struct pair b_pair with
 * another second field. A test asserts: linking objlink_b then this fails
 * with "incompatible field #1 names" for b_pair.
 */
#include "common.h"

struct pair {
	int a;
	int c;
};

extern struct pair b_pair;

SEC("socket") int struct_prog(void *ctx) { return b_pair.c; }

BPF_LICENSE("GPL");
