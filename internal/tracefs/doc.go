// Package tracefs manages trace events through the kernel's tracing file
// system: tracepoint IDs, kprobe and uprobe events created by writing to
// kprobe_events and uprobe_events, and the sysfs facts the perf PMU path of
// kprobes and uprobes needs.
//
// It sits under the link package: tracepoint links read an event's ID
// here; kprobe and uprobe links use the dynamic kprobe/uprobe PMU (PMUType,
// PMUConfigBit) and fall back to a tracefs event (NewEvent) on kernels or
// configurations without it. It reads and writes plain files and may import
// the standard library, golang.org/x/sys/unix and internal; it must never
// import internal/sys (it calls no bpf(2)) or any package above it.
//
// Mounting tracefs is left to the user (or the tests); Path only finds it.
package tracefs
