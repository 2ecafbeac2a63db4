// Command vmtest runs the module's tests inside virtual machines, one per
// kernel, so that tests this host cannot run (kprobes, fentry/fexit,
// fmod_ret, LSM, freplace) and other kernel versions are covered.
//
// It sits beside the library, not in its flow: it builds every package's
// test binary with go test -c, packs them with busybox and the source tree
// into a cpio initramfs it writes itself, boots qemu-system-x86_64 (KVM
// when a guest actually boots under it, TCG otherwise), and parses the
// results the guest streams over its second serial port. It may import the
// standard library and golang.org/x/sys/unix; it must never import a
// package of this module, so that a broken library cannot break the
// harness that reports on it.
//
// Usage: make vmtest, or go run ./internal/cmd/vmtest -h for the flags.
// README.md in this directory says how to add a kernel.
package main
