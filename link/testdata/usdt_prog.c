/* usdt_prog: a program with USDT probes, built by the link tests with gcc
 * and <sys/sdt.h> (Debian's systemtap-sdt-dev).
 *
 * Probes, each guarded by its semaphore:
 *   - bpfkit:args: 12 arguments: constants, registers and memory at a
 *     register plus an offset, of every size, signed and unsigned; the
 *     values are those of wantArgs in usdt_test.go;
 *   - bpfkit:indexed: one argument in memory at base + index * scale (x86
 *     scale-index-base), which libbpf before 1.7 can't read: -99;
 *   - bpfkit:multi: two sites, one passing (7, 8) as constants, one
 *     passing (n, n + 1) from registers, so one probe has two argument
 *     layouts.
 *
 * It reads commands from stdin, one per line, and answers each on stdout:
 *   fire  fires the probes whose semaphores are raised, answers "fired";
 *   sema  answers "args=A multi=M indexed=I", the semaphores' values.
 * It starts by printing "ready PID".
 */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

unsigned short bpfkit_args_semaphore __attribute__((section(".probes")));
unsigned short bpfkit_multi_semaphore __attribute__((section(".probes")));
unsigned short bpfkit_indexed_semaphore __attribute__((section(".probes")));

struct vals {
	long long s64;
	unsigned int u32;
	short s16;
	unsigned char u8;
	int arr[4];
};

__attribute__((noinline)) void fire_args(struct vals *v, long idx, long long r64, int r32,
					 unsigned short r16, signed char r8)
{
	if (bpfkit_args_semaphore)
		STAP_PROBE12(bpfkit, args, (signed char)-7, (unsigned short)40000, r64, r32, r16, r8,
			     v->s64, v->u32, v->s16, v->u8, v->arr[1], -1234567890123LL);
	if (bpfkit_indexed_semaphore)
		STAP_PROBE1(bpfkit, indexed, v->arr[idx]);
}

__attribute__((noinline)) void fire_multi(int n)
{
	if (bpfkit_multi_semaphore) {
		STAP_PROBE2(bpfkit, multi, 7, 8);
		STAP_PROBE2(bpfkit, multi, n, n + 1);
	}
}

int main(void)
{
	static struct vals v = {
		.s64 = -9876543210LL,
		.u32 = 0xfedcba98u,
		.s16 = -2,
		.u8 = 0xfe,
		.arr = {1, -98, -99, 4},
	};
	volatile long idx = 2;
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (strcmp(line, "fire\n") == 0) {
			fire_args(&v, idx, -42, -100000, 0xbeef, -3);
			fire_multi(41);
			printf("fired\n");
		} else if (strcmp(line, "sema\n") == 0) {
			printf("args=%u multi=%u indexed=%u\n", bpfkit_args_semaphore, bpfkit_multi_semaphore,
			       bpfkit_indexed_semaphore);
		} else {
			printf("unknown command\n");
		}
	}
	return 0;
}
