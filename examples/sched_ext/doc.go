// Command sched_ext replaces the kernel's scheduler with a minimal
// sched_ext scheduler (Linux 6.12 with CONFIG_SCHED_CLASS_EXT) until it is
// stopped, printing what the kernel reports about it:
//
//	go run -exec sudo ./examples/sched_ext
//
// It shows a struct_ops map from a ".struct_ops.link" section attached
// with link.AttachStructOps, and bpf2go's -no-global-types.
package main
