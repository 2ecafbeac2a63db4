/* usdt.h: the BPF side of USDT support for the examples, written to the
 * interface of libbpf's <bpf/usdt.bpf.h>, which your own programs would
 * include instead (the examples build with -nostdinc). Loaders fill its
 * two maps: libbpf's bpf_program__attach_usdt and this library's
 * link.Executable.USDT alike.
 *
 *   __bpf_usdt_specs: array of 256 argument specs, 208 bytes each: twelve
 *     16-byte argument locations, then a u64 cookie at 192 and the
 *     argument count (short) at 200;
 *   an argument location: u64 constant or displacement; a 32-bit word whose
 *     low byte is the kind (0 constant, 1 register, 2 memory at register
 *     plus displacement); the register's offset in struct pt_regs (short);
 *     signed (bool); 64 minus the size in bits;
 *   __bpf_usdt_ip_to_spec_id: probe address to spec ID, used on kernels
 *     without BPF cookies (before 5.15), which LINUX_HAS_BPF_COOKIE tells.
 *
 * The maps are weak and the functions weak and hidden, as in libbpf: the
 * loader treats hidden functions as static, so the verifier checks them in
 * each caller.
 */
#ifndef EXAMPLES_USDT_H
#define EXAMPLES_USDT_H

#include "common.h"

#define __weak __attribute__((weak))
#define __hidden __attribute__((visibility("hidden")))
#define __kconfig __attribute__((section(".kconfig")))

#define BPF_USDT_MAX_ARG_CNT 12

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
	__uint(max_entries, 256);
	__type(key, int);
	__type(value, struct usdt_spec);
} __bpf_usdt_specs SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, long);
	__type(value, __u32);
} __bpf_usdt_ip_to_spec_id SEC(".maps") __weak;

extern const bool LINUX_HAS_BPF_COOKIE __kconfig;

static long (*const usdt_probe_read_user)(void *dst, __u32 size, const void *src) = (void *)112;
static __u64 (*const usdt_get_attach_cookie)(void *ctx) = (void *)174;

static __always_inline struct usdt_spec *usdt_spec_of(struct pt_regs *ctx)
{
	int id;

	if (LINUX_HAS_BPF_COOKIE) {
		id = usdt_get_attach_cookie(ctx);
	} else {
#if defined(__TARGET_ARCH_x86)
		long ip = ctx->ip;
#else
		long ip = ctx->pc;
#endif
		__u32 *found = bpf_map_lookup_elem(&__bpf_usdt_ip_to_spec_id, &ip);

		if (!found)
			return NULL;
		id = *found;
	}
	return bpf_map_lookup_elem(&__bpf_usdt_specs, &id);
}

/* The number of arguments of the probe that fired, or -ESRCH (-3). */
__weak __hidden int bpf_usdt_arg_cnt(struct pt_regs *ctx)
{
	struct usdt_spec *spec = usdt_spec_of(ctx);

	return spec ? spec->nargs : -3;
}

/* Reads argument n (from 0) into *res, sign- or zero-extended to 64 bits.
 * Returns 0, or a negative error with *res zero. */
__weak __hidden int bpf_usdt_arg(struct pt_regs *ctx, __u64 n, long *res)
{
	struct usdt_spec *spec = usdt_spec_of(ctx);
	struct usdt_arg_loc *loc;
	unsigned long v = 0;
	long err;

	*res = 0;
	if (!spec)
		return -3; /* ESRCH */
	if (n >= BPF_USDT_MAX_ARG_CNT || n >= spec->nargs)
		return -2; /* ENOENT */
	loc = &spec->args[n];
	switch (loc->kind_word & 0xff) {
	case 0: /* a constant */
		v = loc->value;
		break;
	case 1: /* a register, at an offset only known at run time */
		err = bpf_probe_read_kernel(&v, sizeof(v), (char *)ctx + loc->reg);
		if (err)
			return err;
		break;
	case 2: /* memory at a register plus a displacement */
		err = bpf_probe_read_kernel(&v, sizeof(v), (char *)ctx + loc->reg);
		if (err)
			return err;
		err = usdt_probe_read_user(&v, sizeof(v), (void *)(v + loc->value));
		if (err)
			return err;
		break;
	default:
		return -22; /* EINVAL */
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
__weak __hidden long bpf_usdt_cookie(struct pt_regs *ctx)
{
	struct usdt_spec *spec = usdt_spec_of(ctx);

	return spec ? spec->cookie : 0;
}

#endif /* EXAMPLES_USDT_H */
