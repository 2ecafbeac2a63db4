/* err_extern: externs that cannot be resolved.
 *   - bpfkit_no_such_kfunc: a non-weak kfunc the kernel does not have;
 *   - CONFIG_BPFKIT_NO_SUCH_OPTION: a non-weak .kconfig extern that no
 *     kernel config defines.
 * The ELF reader accepts the object (both are well-formed .ksyms/.kconfig
 * externs); resolving them at load time fails.
 *
 * Test (loader): loading the collection fails; the error names the
 * extern ("bpfkit_no_such_kfunc" for "call_missing", and
 * "CONFIG_BPFKIT_NO_SUCH_OPTION" for "read_missing_kconfig") and wraps
 * ErrNotSupported-style "not found in kernel" information, not a generic
 * EINVAL. Each program alone fails the same way.
 * Verified here: bpftool prog loadall fails (libbpf: "extern (func ksym)
 * 'bpfkit_no_such_kfunc': not found in kernel or module BTFs").
 */
#include "common.h"

extern int bpfkit_no_such_kfunc(int x) __ksym;
extern int CONFIG_BPFKIT_NO_SUCH_OPTION __kconfig;

SEC("tc")
int call_missing(struct __sk_buff *skb)
{
	return bpfkit_no_such_kfunc(1);
}

SEC("tc")
int read_missing_kconfig(struct __sk_buff *skb)
{
	return CONFIG_BPFKIT_NO_SUCH_OPTION;
}

BPF_LICENSE("GPL");
