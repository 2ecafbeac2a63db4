// Package linux answers small questions about the running kernel that the
// objects and links need and that bpf(2) cannot: how many CPUs are
// possible and online, which prefix the architecture gives syscall
// wrappers, the kernel release, the type of a file system.
//
// It sits below the objects and links (per-CPU maps size their values with
// PossibleCPUs, kprobe links build syscall symbol names with
// SyscallPrefix) and reads plain files and uses syscalls other than bpf(2)
// through golang.org/x/sys/unix. It may import the standard library and
// internal; it must never import internal/sys or any package above it. The
// kernel version (with the vDSO and auxv reading behind it) lives in
// internal, not here.
package linux
