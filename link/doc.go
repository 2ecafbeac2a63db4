// Package link attaches loaded programs to kernel hooks.
//
// It is the last stage of the data flow: it takes *ebpf.Program and
// *ebpf.Map objects and turns them into attachments, one Go type per kernel
// bpf_link_type. It imports ebpf, asm (feature-probe programs), btf (the
// BTF of an extension's target program), internal, internal/sys (its only
// way to bpf(2)) and the kernel-fact packages internal/tracefs and
// internal/linux. It must never issue bpf(2) itself (only through
// internal/sys), and nothing it imports may import it back: ebpf and
// everything below it never import link.
//
// # Links
//
// A Link is an attachment that lives as long as its file descriptor, a pin
// on bpffs (Pin, LoadPinnedLink), or another process's descriptor. Close
// releases this process's hold; Detach (Linux 5.9) detaches the program
// even while the link is pinned. Update swaps the program where the kernel
// allows it (cgroup, XDP, netns, tcx, netkit, sockmap links). Info
// describes the link; the details of each type are behind Info's method
// named after it.
//
// Each kernel link type has its own Go type, unexported unless it has
// methods beyond Link: *Iter (Open), *NetNsLink, *RawLink (the generic
// operations, and the result of AttachRawLink). NewFromFD, NewFromID,
// LoadPinnedLink and Iterator give any existing link its type.
//
// # Attaching
//
// Tracing: Kprobe, Kretprobe (the kprobe PMU, or a tracefs event on
// kernels without it), KprobeMulti, KretprobeMulti and kprobe sessions,
// Tracepoint, AttachRawTracepoint, AttachTracing (fentry, fexit, fmod_ret,
// tp_btf), AttachLSM, AttachFreplace, AttachIter, AttachPerfEvent. User
// space: OpenExecutable and Executable.Uprobe, Uretprobe, UprobeMulti,
// UretprobeMulti; Executable.USDT attaches programs written with libbpf's
// usdt.bpf.h to USDT probes (USDTProbes lists them, ParseUSDTTarget reads
// a SEC("usdt/...") target). Cgroups: AttachCgroup, which falls back to
// BPF_PROG_ATTACH before Linux 5.7. Networking: AttachXDP, AttachTCX and
// AttachNetkit (ordered with Anchors), AttachNetfilter, AttachNetNs,
// AttachSocketFilter, AttachSockmap. AttachStructOps registers a
// struct_ops map. RawAttachProgram and RawDetachProgram attach without a
// link; QueryPrograms lists what is attached to a hook.
//
// A hook the kernel lacks gives an error wrapping ErrNotSupported that
// names the feature and the first kernel version with it. Every error path
// closes the perf events, tracefs events and legacy attachments it made.
package link
