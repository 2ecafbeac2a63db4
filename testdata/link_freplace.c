/* link_freplace: an extension program (BPF_PROG_TYPE_EXT) that replaces
 * the global function replace_me of link_freplace_target's program
 * freplace_entry. Its prototype matches the target's: int (int).
 * Extension programs get EPERM on the 6.18 machine here; the qemu VM
 * tests run it.
 * Test: see link_freplace_target.c: with the link, freplace_entry returns
 * 14 instead of 8; .bss calls counts the replaced calls.
 * Verified here: compiles for both byte orders; loading it returns EPERM
 * on this kernel.
 */
#include "common.h"

__u64 calls;

SEC("freplace/replace_me")
int new_replace_me(int x)
{
	calls++;
	return x * 2;
}

BPF_LICENSE("GPL");
