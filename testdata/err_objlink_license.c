/* err_objlink_license.c: a license other than objlink_b.c's "GPL". A
 * test asserts: linking objlink_b then this fails because the contents of
 * section "license" differ.
 */
#include "common.h"

SEC("socket") int license_prog(void *ctx) { return 0; }

BPF_LICENSE("Dual MIT/GPL");
