/* btf_kinds: every BTF kind and flag clang emits, for the btf package's
 * parser, encoder and Go formatter tests: integers of every size and
 * encoding (__int128 included), float, double and long double, pointers,
 * multi-dimensional and flexible arrays, bitfields (kind_flag members, one
 * of enum type), anonymous struct and union members, 32-bit enums signed
 * and unsigned, a packed one-byte enum, 64-bit enums signed and unsigned,
 * forward declarations of a struct and a union, typedefs, const, volatile,
 * restrict, a type tag on a pointee, function pointers with a variadic
 * prototype, static and global functions and variables in .data, .bss and
 * .rodata, and decl tags on a struct, a member, a typedef, a variable, a
 * function and a parameter.
 *
 * Test: btf's TestAgainstBpftool (every type equals bpftool's raw dump),
 * TestMarshalRoundTripTestdata, TestGoTypeLayout. The program "kinds"
 * (tc) returns 3 with the initial globals: sum_bits() of
 * everything_data.bits (1 + 2 + 0) plus static_func(config=7, 0) - 7.
 * Verified here: bpftool prog loadall; bpftool btf dump.
 */
#include "common.h"

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __ttag(x) __attribute__((btf_type_tag(x)))

struct fwd_s;
union fwd_u;

enum small { SMALL_A = -1, SMALL_B = 5 };
enum unsigned_small { US_A = 1, US_B = 0x80000000u };
enum big { BIG_A = 0xffffffffffULL, BIG_B = 1 };
enum sbig { SBIG_A = -5000000000LL, SBIG_B = 2 };
enum __attribute__((packed)) tiny { TINY_A = 1, TINY_B = 200 };

typedef unsigned long long u64_t __tag("typedef_tag");

struct bits {
	unsigned int a : 3;
	unsigned int b : 13;
	int c : 16;
	unsigned long long d : 40;
	unsigned char e;
	enum small f : 4;
} __tag("struct_tag");

union anon_holder {
	struct {
		int x;
		int y;
	};
	union {
		long z;
		char bytes[8];
	};
	u64_t w __tag("member_tag");
};

struct flex {
	int n;
	struct bits items[];
};

struct everything {
	char c;
	signed char sc;
	unsigned char uc;
	short s;
	unsigned short us;
	int i;
	unsigned int ui;
	long l;
	unsigned long ul;
	long long ll;
	unsigned long long ull;
	__int128 i128;
	unsigned __int128 u128;
	_Bool b;
	float f;
	double d;
	long double ld;
	int matrix[3][4];
	const volatile int cv;
	int *restrict rp;
	int __ttag("user") *up;
	struct fwd_s *fs;
	union fwd_u *fu;
	enum small es;
	enum unsigned_small eus;
	enum big eb;
	enum sbig esb;
	enum tiny et;
	struct bits bits;
	union anon_holder anon;
	struct flex *flex;
	void (*callback)(int, ...);
	int (*fnptr)(struct everything *, const char *);
};

struct everything everything_data SEC(".data") __tag("var_tag") = {
	.bits = { .a = 1, .b = 2, .c = 0 },
};
struct flex flex_data;
static volatile int counter;
const volatile unsigned int config = 7;

static __noinline int static_func(int a __tag("param_tag"), int b)
{
	counter += a;
	return a + b;
}

__noinline int sum_bits(struct bits *bits) __tag("func_tag")
{
	if (!bits)
		return 0;
	return bits->a + bits->b + bits->c;
}

SEC("tc")
int kinds(void *ctx)
{
	return sum_bits(&everything_data.bits) + static_func(config, 0) - 7;
}

BPF_LICENSE("GPL");
