package linux

import "runtime"

// SyscallPrefix returns the prefix the kernel gives syscall entry points
// on this architecture when it builds them with syscall wrappers
// (CONFIG_ARCH_HAS_SYSCALL_WRAPPER, x86_64 since 4.17): a kprobe on
// getpid attaches to SyscallPrefix()+"sys_getpid", e.g. __x64_sys_getpid.
// The loader sets the LINUX_HAS_SYSCALL_WRAPPER kconfig extern by looking
// for SyscallPrefix()+"sys_bpf" in kallsyms. It returns "" for
// architectures that have no wrappers.
func SyscallPrefix() string {
	return syscallPrefix(runtime.GOARCH)
}

func syscallPrefix(goarch string) string {
	switch goarch {
	case "amd64":
		return "__x64_"
	case "386":
		return "__ia32_"
	case "arm64":
		return "__arm64_"
	case "arm":
		return "__arm_"
	case "s390x":
		return "__s390x_"
	case "riscv64":
		return "__riscv_"
	case "ppc64", "ppc64le":
		// arch/powerpc names its wrappers __powerpc_sys_* on 32 and 64 bits.
		return "__powerpc_"
	case "mips", "mipsle", "mips64", "mips64le":
		return "__mips_"
	}
	return ""
}
