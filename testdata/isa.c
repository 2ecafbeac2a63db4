/* isa: the eBPF instruction set, one program per family, written in inline
 * assembly so that every encoding appears whatever clang's code generator
 * prefers. The objects are built with the default -mcpu=v3; the v4
 * instructions (sdiv/smod, movsx, ldsx, bswap, gotol) and may_goto come from
 * the assembler, which accepts them at any -mcpu.
 *
 *   isa_alu64     every ALU64 operation, immediate and register forms, signed
 *                 division and modulo, sign-extending moves, bswap16/32/64,
 *                 le/be 16/32/64, ldimm64 of a plain constant
 *   isa_alu32     the same operations on 32-bit registers (ALU class)
 *   isa_mem       stores of registers and immediates, loads and
 *                 sign-extending loads, in every size
 *   isa_jump      all conditional jumps, 64 and 32 bit, immediate and
 *                 register, forward and backward; ja, gotol, may_goto
 *   isa_atomic    add/and/or/xor with and without fetch, xchg and cmpxchg,
 *                 32 and 64 bit
 *   isa_ldabs     the classic packet loads LD_ABS and LD_IND, 8/16/32 bit
 *   isa_call      helper call and bpf-to-bpf call of isa_callee
 *
 * Not here: load-acquire and store-release, which clang-19 cannot assemble
 * (asm tests them with instructions built in Go against the kernel's
 * encoding); kfunc calls, function pointers and addr_space_cast, which
 * map_special, subprogs and map_arena contain.
 *
 * A test asserts: every instruction decodes, re-encodes to the same bytes
 * and disassembles like llvm-objdump-19 (asm/objdump_test.go). All programs
 * are socket filters and load on Linux 6.18; with BPF_PROG_TEST_RUN on a
 * 64-byte packet of zeroes each returns the value named above it.
 */
#include "common.h"

#define __naked __attribute__((naked))
#define CLOBBER_ALL "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"

/* Returns 0xe5432151 (the low 32 bits of r0; observed on Linux 6.18). */
SEC("socket") __naked int isa_alu64(void)
{
	asm volatile(
		"r1 = 7\n"
		"r2 = -3\n"
		"r3 = 0x7fffffff\n"
		"r0 = r1\n"
		"r0 += 5\n"
		"r0 += r2\n"
		"r0 -= 1\n"
		"r0 -= r2\n"
		"r0 *= 3\n"
		"r0 *= r1\n"
		"r0 /= 2\n"
		"r0 /= r1\n"
		"r0 s/= -2\n"
		"r0 s/= r2\n"
		"r0 %%= 5\n"
		"r0 %%= r1\n"
		"r0 s%%= -3\n"
		"r0 s%%= r2\n"
		"r0 |= 0x10\n"
		"r0 |= r1\n"
		"r0 &= 0xff\n"
		"r0 &= r3\n"
		"r0 <<= 3\n"
		"r0 <<= r1\n"
		"r0 >>= 2\n"
		"r0 >>= r1\n"
		"r0 s>>= 1\n"
		"r0 s>>= r1\n"
		"r0 = -r0\n"
		"r0 ^= 0x55\n"
		"r0 ^= r2\n"
		"r4 = (s8)r2\n"
		"r0 += r4\n"
		"r4 = (s16)r3\n"
		"r0 += r4\n"
		"r4 = (s32)r3\n"
		"r0 += r4\n"
		"r4 = 0x1234\n"
		"r4 = bswap16 r4\n"
		"r4 = bswap32 r4\n"
		"r4 = bswap64 r4\n"
		"r4 = le16 r4\n"
		"r4 = le32 r4\n"
		"r4 = le64 r4\n"
		"r4 = be16 r4\n"
		"r4 = be32 r4\n"
		"r4 = be64 r4\n"
		"r0 += r4\n"
		"r5 = 0x123456789abcdef0 ll\n"
		"r0 ^= r5\n"
		"r5 = -2 ll\n"
		"r0 += r5\n"
		"exit\n"
		::: CLOBBER_ALL);
}

/* Returns 0x7fa4 (observed on Linux 6.18). */
SEC("socket") __naked int isa_alu32(void)
{
	asm volatile(
		"w1 = 7\n"
		"w2 = -3\n"
		"w3 = 0x7fff\n"
		"w0 = w1\n"
		"w0 += 5\n"
		"w0 += w2\n"
		"w0 -= 1\n"
		"w0 -= w2\n"
		"w0 *= 3\n"
		"w0 *= w1\n"
		"w0 /= 2\n"
		"w0 /= w1\n"
		"w0 s/= -2\n"
		"w0 s/= w2\n"
		"w0 %%= 5\n"
		"w0 %%= w1\n"
		"w0 s%%= -3\n"
		"w0 s%%= w2\n"
		"w0 |= 0x10\n"
		"w0 |= w1\n"
		"w0 &= 0xff\n"
		"w0 &= w3\n"
		"w0 <<= 3\n"
		"w0 <<= w1\n"
		"w0 >>= 2\n"
		"w0 >>= w1\n"
		"w0 s>>= 1\n"
		"w0 s>>= w1\n"
		"w0 = -w0\n"
		"w0 ^= 0x55\n"
		"w0 ^= w2\n"
		"w4 = (s8)w2\n"
		"w0 += w4\n"
		"w4 = (s16)w3\n"
		"w0 += w4\n"
		"exit\n"
		::: CLOBBER_ALL);
}

/* Returns the low 32 bits of 0x1122334455667788 + 0x55667788 + 0x7788 +
 * 0x88 + 1 + 2 + 3 - 4 - 1 - 1 - 7 (the last three sign extended from 8,
 * 16 and 32 bits): 0xaacd6719. */
SEC("socket") __naked int isa_mem(void)
{
	asm volatile(
		"r1 = 0x1122334455667788 ll\n"
		"*(u64 *)(r10 - 8) = r1\n"
		"*(u32 *)(r10 - 12) = w1\n"
		"*(u16 *)(r10 - 14) = w1\n"
		"*(u8 *)(r10 - 15) = w1\n"
		"*(u8 *)(r10 - 16) = 1\n"
		"*(u16 *)(r10 - 18) = 2\n"
		"*(u32 *)(r10 - 24) = 3\n"
		"*(u64 *)(r10 - 32) = -4\n"
		"*(u8 *)(r10 - 33) = 0xff\n"
		"*(u16 *)(r10 - 36) = -1\n"
		"*(u16 *)(r10 - 38) = 0\n"
		"*(u32 *)(r10 - 44) = -7\n"
		"r0 = *(u64 *)(r10 - 8)\n"
		"w2 = *(u32 *)(r10 - 12)\n"
		"r0 += r2\n"
		"w2 = *(u16 *)(r10 - 14)\n"
		"r0 += r2\n"
		"w2 = *(u8 *)(r10 - 15)\n"
		"r0 += r2\n"
		"w2 = *(u8 *)(r10 - 16)\n"
		"r0 += r2\n"
		"w2 = *(u16 *)(r10 - 18)\n"
		"r0 += r2\n"
		"w2 = *(u32 *)(r10 - 24)\n"
		"r0 += r2\n"
		"r2 = *(u64 *)(r10 - 32)\n"
		"r0 += r2\n"
		"r2 = *(s8 *)(r10 - 33)\n"
		"r0 += r2\n"
		"r2 = *(s16 *)(r10 - 36)\n"
		"r0 += r2\n"
		"r2 = *(s32 *)(r10 - 44)\n"
		"r0 += r2\n"
		"exit\n"
		::: CLOBBER_ALL);
}

/* Each conditional jump that is not taken adds 1 to r0 (8 of the 22 in
 * each width); the may_goto loop ends with 24. Returns 40. */
SEC("socket") __naked int isa_jump(void)
{
	asm volatile(
		"r0 = 0\n"
		"r1 = 5\n"
		"r2 = -5\n"
		"r3 = 5\n"
		"if r1 == 5 goto +1\n"
		"r0 += 1\n"
		"if r1 == r2 goto +1\n"
		"r0 += 1\n"
		"if r1 != 5 goto +1\n"
		"r0 += 1\n"
		"if r1 != r2 goto +1\n"
		"r0 += 1\n"
		"if r1 > 4 goto +1\n"
		"r0 += 1\n"
		"if r1 > r2 goto +1\n"
		"r0 += 1\n"
		"if r1 >= 6 goto +1\n"
		"r0 += 1\n"
		"if r1 >= r3 goto +1\n"
		"r0 += 1\n"
		"if r1 < 4 goto +1\n"
		"r0 += 1\n"
		"if r1 < r2 goto +1\n"
		"r0 += 1\n"
		"if r1 <= 5 goto +1\n"
		"r0 += 1\n"
		"if r1 <= r3 goto +1\n"
		"r0 += 1\n"
		"if r1 & 4 goto +1\n"
		"r0 += 1\n"
		"if r1 & r2 goto +1\n"
		"r0 += 1\n"
		"if r2 s> -6 goto +1\n"
		"r0 += 1\n"
		"if r2 s> r1 goto +1\n"
		"r0 += 1\n"
		"if r2 s>= -5 goto +1\n"
		"r0 += 1\n"
		"if r2 s>= r1 goto +1\n"
		"r0 += 1\n"
		"if r2 s< 0 goto +1\n"
		"r0 += 1\n"
		"if r2 s< r1 goto +1\n"
		"r0 += 1\n"
		"if r2 s<= -6 goto +1\n"
		"r0 += 1\n"
		"if r2 s<= r2 goto +1\n"
		"r0 += 1\n"
		"if w1 == 5 goto +1\n"
		"r0 += 1\n"
		"if w1 == w2 goto +1\n"
		"r0 += 1\n"
		"if w1 != 5 goto +1\n"
		"r0 += 1\n"
		"if w1 != w2 goto +1\n"
		"r0 += 1\n"
		"if w1 > 4 goto +1\n"
		"r0 += 1\n"
		"if w1 > w2 goto +1\n"
		"r0 += 1\n"
		"if w1 >= 6 goto +1\n"
		"r0 += 1\n"
		"if w1 >= w3 goto +1\n"
		"r0 += 1\n"
		"if w1 < 4 goto +1\n"
		"r0 += 1\n"
		"if w1 < w2 goto +1\n"
		"r0 += 1\n"
		"if w1 <= 5 goto +1\n"
		"r0 += 1\n"
		"if w1 <= w3 goto +1\n"
		"r0 += 1\n"
		"if w1 & 4 goto +1\n"
		"r0 += 1\n"
		"if w1 & w2 goto +1\n"
		"r0 += 1\n"
		"if w2 s> -6 goto +1\n"
		"r0 += 1\n"
		"if w2 s> w1 goto +1\n"
		"r0 += 1\n"
		"if w2 s>= -5 goto +1\n"
		"r0 += 1\n"
		"if w2 s>= w1 goto +1\n"
		"r0 += 1\n"
		"if w2 s< 0 goto +1\n"
		"r0 += 1\n"
		"if w2 s< w1 goto +1\n"
		"r0 += 1\n"
		"if w2 s<= -6 goto +1\n"
		"r0 += 1\n"
		"if w2 s<= w2 goto +1\n"
		"r0 += 1\n"
		/* Unconditional jumps: ja and gotol skip an add each. The
		 * never-taken jumps keep the adds reachable for the verifier's
		 * control flow check. */
		"if r1 != 5 goto .Lja_%=\n"
		"goto +1\n"
		".Lja_%=:\n"
		"r0 += 100\n"
		"if r1 != 5 goto .Lgotol_%=\n"
		"gotol +1\n"
		".Lgotol_%=:\n"
		"r0 += 100\n"
		/* A loop bounded by may_goto, with a backward jump. */
		"r6 = 0\n"
		".Lloop_%=:\n"
		"may_goto .Ldone_%=\n"
		"r6 += 1\n"
		"if r6 > 1000 goto .Ldone_%=\n"
		"goto .Lloop_%=\n"
		".Ldone_%=:\n"
		"r0 += 24\n"
		"exit\n"
		::: CLOBBER_ALL);
}

/* Atomics on the stack. Returns 0 when every fetch saw the expected old
 * value, else the number of the first failed check. */
SEC("socket") __naked int isa_atomic(void)
{
	asm volatile(
		"r1 = 10\n"
		"*(u64 *)(r10 - 8) = r1\n"
		"*(u32 *)(r10 - 16) = w1\n"
		/* 64 bit: 10 +5 15 +3 18 &3 2 &0xff 2 |4 6 |1 7 ^7 0 ^0 0 xchg 42
		 * cmpxchg 43 */
		"r2 = 5\n"
		"lock *(u64 *)(r10 - 8) += r2\n"
		"r2 = 3\n"
		"r2 = atomic_fetch_add((u64 *)(r10 - 8), r2)\n"
		"r0 = 1\n"
		"if r2 != 15 goto .Lout_%=\n"
		"r2 = 3\n"
		"lock *(u64 *)(r10 - 8) &= r2\n"
		"r2 = 0xff\n"
		"r2 = atomic_fetch_and((u64 *)(r10 - 8), r2)\n"
		"r0 = 2\n"
		"if r2 != 2 goto .Lout_%=\n"
		"r2 = 4\n"
		"lock *(u64 *)(r10 - 8) |= r2\n"
		"r2 = 1\n"
		"r2 = atomic_fetch_or((u64 *)(r10 - 8), r2)\n"
		"r0 = 3\n"
		"if r2 != 6 goto .Lout_%=\n"
		"r2 = 7\n"
		"lock *(u64 *)(r10 - 8) ^= r2\n"
		"r2 = 0\n"
		"r2 = atomic_fetch_xor((u64 *)(r10 - 8), r2)\n"
		"r0 = 4\n"
		"if r2 != 0 goto .Lout_%=\n"
		"r2 = 42\n"
		"r2 = xchg_64(r10 - 8, r2)\n"
		"r0 = 5\n"
		"if r2 != 0 goto .Lout_%=\n"
		"r0 = 42\n"
		"r2 = 43\n"
		"r0 = cmpxchg_64(r10 - 8, r0, r2)\n"
		"if r0 != 42 goto .Lfail6_%=\n"
		/* 32 bit: the same sequence. */
		"w2 = 5\n"
		"lock *(u32 *)(r10 - 16) += w2\n"
		"w2 = 3\n"
		"w2 = atomic_fetch_add((u32 *)(r10 - 16), w2)\n"
		"r0 = 7\n"
		"if w2 != 15 goto .Lout_%=\n"
		"w2 = 3\n"
		"lock *(u32 *)(r10 - 16) &= w2\n"
		"w2 = 0xff\n"
		"w2 = atomic_fetch_and((u32 *)(r10 - 16), w2)\n"
		"r0 = 8\n"
		"if w2 != 2 goto .Lout_%=\n"
		"w2 = 4\n"
		"lock *(u32 *)(r10 - 16) |= w2\n"
		"w2 = 1\n"
		"w2 = atomic_fetch_or((u32 *)(r10 - 16), w2)\n"
		"r0 = 9\n"
		"if w2 != 6 goto .Lout_%=\n"
		"w2 = 7\n"
		"lock *(u32 *)(r10 - 16) ^= w2\n"
		"w2 = 0\n"
		"w2 = atomic_fetch_xor((u32 *)(r10 - 16), w2)\n"
		"r0 = 10\n"
		"if w2 != 0 goto .Lout_%=\n"
		"w2 = 42\n"
		"w2 = xchg32_32(r10 - 16, w2)\n"
		"r0 = 11\n"
		"if w2 != 0 goto .Lout_%=\n"
		"w0 = 42\n"
		"w2 = 43\n"
		"w0 = cmpxchg32_32(r10 - 16, w0, w2)\n"
		"if w0 != 42 goto .Lfail12_%=\n"
		"r0 = 0\n"
		"goto .Lout_%=\n"
		".Lfail6_%=:\n"
		"r0 = 6\n"
		"goto .Lout_%=\n"
		".Lfail12_%=:\n"
		"r0 = 12\n"
		".Lout_%=:\n"
		"exit\n"
		::: CLOBBER_ALL);
}

/* Legacy packet loads; the packet must hold at least 20 bytes. Returns the
 * sum of the loaded bytes: 0 for a packet of zeroes. */
SEC("socket") __naked int isa_ldabs(void)
{
	asm volatile(
		"r6 = r1\n"
		"r0 = *(u8 *)skb[12]\n"
		"r7 = r0\n"
		"r0 = *(u16 *)skb[12]\n"
		"r7 += r0\n"
		"r0 = *(u32 *)skb[0]\n"
		"r7 += r0\n"
		"r8 = 2\n"
		"r0 = *(u8 *)skb[r8]\n"
		"r7 += r0\n"
		"r0 = *(u16 *)skb[r8]\n"
		"r7 += r0\n"
		"r0 = *(u32 *)skb[r8]\n"
		"r7 += r0\n"
		"r0 = r7\n"
		"exit\n"
		::: CLOBBER_ALL);
}

/* Returns its argument plus 1. */
static __noinline int isa_callee(int x)
{
	return x + 1;
}

/* Calls a helper and isa_callee. Returns 42. */
SEC("socket") int isa_call(void *ctx)
{
	int cpu = bpf_get_smp_processor_id();

	return isa_callee(cpu) - cpu + 41;
}

BPF_LICENSE("GPL");
