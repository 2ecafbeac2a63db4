/* usdt.h: the BPF half of USDT support for the test objects, written to
 * the interface of libbpf's usdt.bpf.h so that a loader filling the maps
 * for libbpf fills them for these objects too (the test objects can't
 * include the system's header: they are built with -nostdinc).
 *
 * The interface, as libbpf defines it:
 *   - __bpf_usdt_specs: array of BPF_USDT_MAX_SPEC_CNT (256) specs, 208
 *     bytes each: 12 argument specs of 16 bytes, a u64 USDT cookie at 192,
 *     a short argument count at 200;
 *   - an argument spec: u64 value or displacement at 0; at 8 a 32-bit word
 *     whose low 8 bits are the kind (0 constant, 1 register, 2 memory at
 *     register + displacement, 3 memory at base + index << scale +
 *     displacement), which libbpf 1.7 shares with the index register's
 *     pt_regs offset (12 bits) and the scale's log2 (4 bits), packed as
 *     C bit-fields; the register's pt_regs offset (short) at 12; signed
 *     (bool) at 14; 64 - 8 * size at 15;
 *   - __bpf_usdt_ip_to_spec_id: hash from the probed instruction's
 *     address (long) to spec ID (u32), for kernels without BPF cookies;
 *   - the .kconfig extern LINUX_HAS_BPF_COOKIE says which of the two the
 *     program uses; with cookies the cookie is the spec ID.
 * Both maps are weak so that every object of a statically linked program
 * may declare them; the functions are weak and hidden (the loader treats
 * them as static, so the verifier checks them per call site).
 *
 * The instruction pointer's offset in pt_regs depends on the architecture
 * the program runs on: __TARGET_ARCH_arm64 or __TARGET_ARCH_s390 pick
 * theirs; otherwise little-endian objects use x86-64's, big-endian ones
 * s390x's.
 */
#ifndef TESTDATA_USDT_H
#define TESTDATA_USDT_H

#include "common.h"

#ifndef BPF_USDT_MAX_SPEC_CNT
#define BPF_USDT_MAX_SPEC_CNT 256
#endif
#ifndef BPF_USDT_MAX_IP_CNT
#define BPF_USDT_MAX_IP_CNT (4 * BPF_USDT_MAX_SPEC_CNT)
#endif
#define BPF_USDT_MAX_ARG_CNT 12

#define USDT_ESRCH 3
#define USDT_ENOENT 2
#define USDT_EINVAL 22

#if defined(__TARGET_ARCH_arm64)
#define USDT_IP_OFFSET 256 /* user_pt_regs.pc */
#elif defined(__TARGET_ARCH_s390) || __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define USDT_IP_OFFSET 16 /* user_pt_regs.psw.addr */
#else
#define USDT_IP_OFFSET 128 /* pt_regs.ip */
#endif

enum usdt_arg_kind {
	USDT_ARG_CONST,
	USDT_ARG_REG,
	USDT_ARG_MEM,
	USDT_ARG_INDEXED,
};

struct usdt_arg_loc {
	__u64 value;
	__u32 kind_word;
	__s16 reg;
	bool is_signed;
	__u8 shift;
};

struct usdt_spec {
	struct usdt_arg_loc args[BPF_USDT_MAX_ARG_CNT];
	__u64 cookie;
	__s16 nargs;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPF_USDT_MAX_SPEC_CNT);
	__type(key, int);
	__type(value, struct usdt_spec);
} __bpf_usdt_specs SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPF_USDT_MAX_IP_CNT);
	__type(key, long);
	__type(value, __u32);
} __bpf_usdt_ip_to_spec_id SEC(".maps") __weak;

extern const bool LINUX_HAS_BPF_COOKIE __kconfig;

static long (*const usdt_probe_read_user)(void *dst, __u32 size, const void *src) = (void *)112;
static __u64 (*const usdt_get_attach_cookie)(void *ctx) = (void *)174;

static __always_inline struct usdt_spec *usdt_spec_of(void *ctx)
{
	int id;

	if (LINUX_HAS_BPF_COOKIE) {
		id = usdt_get_attach_cookie(ctx);
	} else {
		long ip = *(long *)((char *)ctx + USDT_IP_OFFSET);
		__u32 *found = bpf_map_lookup_elem(&__bpf_usdt_ip_to_spec_id, &ip);

		if (!found)
			return NULL;
		id = *found;
	}
	return bpf_map_lookup_elem(&__bpf_usdt_specs, &id);
}

/* Number of arguments of the probe site that fired, or -ESRCH. */
__weak __hidden int bpf_usdt_arg_cnt(void *ctx)
{
	struct usdt_spec *spec = usdt_spec_of(ctx);

	return spec ? spec->nargs : -USDT_ESRCH;
}

/* Reads argument n (from 0) into *res, extended to 64 bits; returns 0, or
 * a negative error with *res zero. */
__weak __hidden int bpf_usdt_arg(void *ctx, __u64 n, long *res)
{
	struct usdt_spec *spec = usdt_spec_of(ctx);
	struct usdt_arg_loc *loc;
	unsigned long v = 0, idx = 0;
	__u32 kind, idx_reg, scale;
	long err;

	*res = 0;
	if (!spec)
		return -USDT_ESRCH;
	if (n >= BPF_USDT_MAX_ARG_CNT || n >= spec->nargs)
		return -USDT_ENOENT;
	loc = &spec->args[n];
	kind = loc->kind_word & 0xff;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	scale = (loc->kind_word >> 8) & 0xf;
	idx_reg = (loc->kind_word >> 12) & 0xfff;
#else
	idx_reg = (loc->kind_word >> 8) & 0xfff;
	scale = (loc->kind_word >> 20) & 0xf;
#endif
	switch (kind) {
	case USDT_ARG_CONST:
		v = loc->value;
		break;
	case USDT_ARG_REG:
		/* The register's offset is only known at run time: the context
		 * can't be indexed by it directly. */
		err = bpf_probe_read_kernel(&v, sizeof(v), (char *)ctx + loc->reg);
		if (err)
			return err;
		break;
	case USDT_ARG_MEM:
	case USDT_ARG_INDEXED:
		err = bpf_probe_read_kernel(&v, sizeof(v), (char *)ctx + loc->reg);
		if (err)
			return err;
		if (kind == USDT_ARG_INDEXED) {
			err = bpf_probe_read_kernel(&idx, sizeof(idx), (char *)ctx + idx_reg);
			if (err)
				return err;
			v += idx << scale;
		}
		err = usdt_probe_read_user(&v, sizeof(v), (void *)(v + loc->value));
		if (err)
			return err;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		/* A narrower value is in the high bytes of what was read. */
		v >>= loc->shift;
#endif
		break;
	default:
		return -USDT_EINVAL;
	}
	v <<= loc->shift;
	if (loc->is_signed)
		v = (unsigned long)((long)v >> loc->shift);
	else
		v >>= loc->shift;
	*res = v;
	return 0;
}

/* The cookie given when attaching (not the BPF cookie), or 0. */
__weak __hidden long bpf_usdt_cookie(void *ctx)
{
	struct usdt_spec *spec = usdt_spec_of(ctx);

	return spec ? spec->cookie : 0;
}

/* BPF_USDT(name, args...) defines program name whose parameters after ctx
 * are the probe's arguments, up to 6 here. */
#define ___usdt_nth(_0, _1, _2, _3, _4, _5, _6, N, ...) N
#define ___usdt_narg(...) ___usdt_nth(_, ##__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define ___usdt_cat(a, b) a##b
#define ___usdt_call(m, n) ___usdt_cat(m, n)
#define ___usdt_get(i) ({ long _v; bpf_usdt_arg(ctx, i, &_v); (void *)_v; })
#define ___usdt_args0() ctx
#define ___usdt_args1(a) ___usdt_args0(), ___usdt_get(0)
#define ___usdt_args2(a, b) ___usdt_args1(a), ___usdt_get(1)
#define ___usdt_args3(a, b, c) ___usdt_args2(a, b), ___usdt_get(2)
#define ___usdt_args4(a, b, c, d) ___usdt_args3(a, b, c), ___usdt_get(3)
#define ___usdt_args5(a, b, c, d, e) ___usdt_args4(a, b, c, d), ___usdt_get(4)
#define ___usdt_args6(a, b, c, d, e, f) ___usdt_args5(a, b, c, d, e), ___usdt_get(5)
#define ___usdt_args(...) ___usdt_call(___usdt_args, ___usdt_narg(__VA_ARGS__))(__VA_ARGS__)

#define BPF_USDT(name, args...)                                              \
	name(void *ctx);                                                     \
	static __always_inline typeof(name(0)) ____##name(void *ctx, ##args); \
	typeof(name(0)) name(void *ctx)                                      \
	{                                                                    \
		_Pragma("GCC diagnostic push")                               \
		_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")       \
		return ____##name(___usdt_args(args));                       \
		_Pragma("GCC diagnostic pop")                                \
	}                                                                    \
	static __always_inline typeof(name(0)) ____##name(void *ctx, ##args)

#endif
