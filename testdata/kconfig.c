/* kconfig: externs in section .kconfig that the loader resolves before
 * loading, from the running kernel's config (/proc/config.gz or
 * /boot/config-$(uname -r)) and from uname.
 *
 * ELF reader: the .kconfig datasec holds (name, BTF type):
 *   LINUX_KERNEL_VERSION (unsigned int, from uname, not the config),
 *   CONFIG_HZ (int), CONFIG_BPF_SYSCALL (bool),
 *   CONFIG_BPF_JIT (enum libbpf_tristate: n = 0, y = 1, m = 2),
 *   CONFIG_DEFAULT_HOSTNAME (char[16], a string option),
 *   CONFIG_BPFKIT_MISSING (weak u64: absent, so 0),
 *   CONFIG_BPFKIT_MISSING_BOOL (weak bool: absent, so false).
 *
 * Test (tc, BPF_PROG_TEST_RUN with a 64-byte packet): "read_kconfig"
 * returns 0 and copies the values into .bss: version, hz, bpf_syscall,
 * bpf_jit, hostname, missing, missing_bool. Compare them with the running
 * kernel's config. On the 6.18.44 machine here: version 0x0006122c
 * (KERNEL_VERSION(6, 18, 44)), hz 250, bpf_syscall 1, bpf_jit 1 (y),
 * hostname "(none)", missing 0, missing_bool 0.
 * Verified here: bpftool prog loadall; libbpf loader (values above).
 */
#include "common.h"

enum libbpf_tristate {
	TRI_NO = 0,
	TRI_YES = 1,
	TRI_MODULE = 2,
};

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig;
extern __u64 CONFIG_BPFKIT_MISSING __kconfig __weak;
extern bool CONFIG_BPFKIT_MISSING_BOOL __kconfig __weak;

__u32 version;
__s32 hz;
__u32 bpf_syscall;
__u32 bpf_jit;
char hostname[16];
__u64 missing;
__u32 missing_bool;

SEC("tc")
int read_kconfig(struct __sk_buff *skb)
{
	int i;

	version = LINUX_KERNEL_VERSION;
	hz = CONFIG_HZ;
	bpf_syscall = CONFIG_BPF_SYSCALL;
	bpf_jit = CONFIG_BPF_JIT;
	for (i = 0; i < sizeof(hostname); i++)
		hostname[i] = CONFIG_DEFAULT_HOSTNAME[i];
	missing = CONFIG_BPFKIT_MISSING;
	missing_bool = CONFIG_BPFKIT_MISSING_BOOL;
	return 0;
}

BPF_LICENSE("GPL");
