/* common.h: the one header of the examples.
 *
 * The examples compile with -nostdinc, so their objects depend on nothing
 * but this file: integer types, libbpf's conventions (SEC, BTF map
 * definitions), the UAPI constants and context structs they use, helpers
 * declared by their number in enum bpf_func_id, and the kernel types they
 * read, declared with only the members they need and relocated with CO-RE.
 * In your own project you would include libbpf's bpf_helpers.h and a
 * vmlinux.h instead.
 */
#ifndef EXAMPLES_COMMON_H
#define EXAMPLES_COMMON_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

#define SEC(name) __attribute__((section(name), used))
#define __always_inline inline __attribute__((always_inline))

/* BTF map definitions: the loader reads the member names and types. */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]

/* enum bpf_map_type */
#define BPF_MAP_TYPE_HASH 1
#define BPF_MAP_TYPE_ARRAY 2
#define BPF_MAP_TYPE_PERCPU_ARRAY 6
#define BPF_MAP_TYPE_LRU_HASH 9
#define BPF_MAP_TYPE_RINGBUF 27

/* pinning of a BTF map definition */
#define LIBBPF_PIN_BY_NAME 1

/* bpf_map_update_elem flags */
#define BPF_ANY 0
#define BPF_NOEXIST 1

/* Return codes. */
#define XDP_PASS 2
#define XDP_TX 3
#define TCX_NEXT -1

/* Byte order of network headers: clang knows the target's. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define bpf_ntohs(x) __builtin_bswap16(x)
#define bpf_htons(x) __builtin_bswap16(x)
#else
#define bpf_ntohs(x) (x)
#define bpf_htons(x) (x)
#endif
#define ETH_P_IP 0x0800
#define AF_INET 2

/* Program contexts (UAPI), only the leading members used. */
struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

struct __sk_buff {
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
	__u32 queue_mapping;
	__u32 protocol;
};

/* struct bpf_sock_ops up to the members sockops.c reads (UAPI offsets). */
struct bpf_sock_ops {
	__u32 op;
	union {
		__u32 args[4];
		__u32 reply;
		__u32 replylong[4];
	};
	__u32 family;
	__u32 remote_ip4;
	__u32 local_ip4;
	__u32 remote_ip6[4];
	__u32 local_ip6[4];
	__u32 remote_port; /* network byte order */
	__u32 local_port;  /* host byte order */
	__u32 is_fullsock;
	__u32 snd_cwnd;
	__u32 srtt_us; /* smoothed RTT << 3, in us */
};
/* enum bpf_sock_ops_cb_flags, and the ops that use them */
#define BPF_SOCK_OPS_RTT_CB_FLAG (1 << 3)
#define BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB 4
#define BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB 5
#define BPF_SOCK_OPS_RTT_CB 12

/* Network headers. */
struct ethhdr {
	__u8 h_dest[6];
	__u8 h_source[6];
	__be16 h_proto;
};

struct iphdr {
	__u8 ihl_version; /* ihl:4 and version:4, in the target's bit order */
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__be32 saddr;
	__be32 daddr;
};

/* Helpers, by number. */
struct tcp_sock;
static void *(*const bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*const bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static __u64 (*const bpf_ktime_get_ns)(void) = (void *)5;
static __u64 (*const bpf_get_current_pid_tgid)(void) = (void *)14;
static long (*const bpf_get_current_comm)(void *buf, __u32 size) = (void *)16;
static long (*const bpf_sock_ops_cb_flags_set)(struct bpf_sock_ops *ops, int flags) = (void *)59;
static long (*const bpf_probe_read_kernel)(void *dst, __u32 size, const void *src) = (void *)113;
static long (*const bpf_probe_read_kernel_str)(void *dst, __u32 size, const void *src) = (void *)115;
static struct tcp_sock *(*const bpf_skc_to_tcp_sock)(void *sk) = (void *)137;
static void *(*const bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*const bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;

/* A kernel type declared locally: CO-RE finds its members by name in the
 * running kernel's BTF, wherever they are. */
#define __core __attribute__((preserve_access_index))

/* Kernel socket structs for tracing programs: only the members read, under
 * the names the kernel uses (in anonymous unions there; CO-RE looks
 * inside them). */
struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num; /* local port, host byte order */
	unsigned short skc_family;
} __core;

struct sock {
	struct sock_common __sk_common;
} __core;

struct tcp_sock {
	__u32 srtt_us; /* smoothed RTT << 3, in us */
} __core;

/* Arguments of fentry/fexit programs: an array of u64, one per argument. */
#define BPF_ARG(ctx, n) (((__u64 *)(ctx))[n])

/* Registers of a kprobe or uprobe: the kernel's struct pt_regs, whose
 * layout depends on the architecture. bpf2go -target amd64 or arm64
 * defines __TARGET_ARCH_x86 or __TARGET_ARCH_arm64. */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};
#define PT_REGS_PARM1(x) ((x)->di)
#define PT_REGS_RC(x) ((x)->ax)
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs {
	__u64 regs[31];
	__u64 sp, pc, pstate;
};
#define PT_REGS_PARM1(x) ((x)->regs[0])
#define PT_REGS_RC(x) ((x)->regs[0])
#else
struct pt_regs;
#define PT_REGS_PARM1(x) ({ _Pragma(__BPF_TARGET_MISSING); 0l; })
#define PT_REGS_RC(x) ({ _Pragma(__BPF_TARGET_MISSING); 0l; })
#endif

#endif /* EXAMPLES_COMMON_H */
