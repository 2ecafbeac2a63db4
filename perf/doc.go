// Package perf reads the samples that BPF programs send with
// bpf_perf_event_output through a BPF_MAP_TYPE_PERF_EVENT_ARRAY (Linux
// 4.3): one perf ring buffer per CPU.
//
// It sits beside link, above the root package, at the end of the flow: it
// takes a loaded *ebpf.Map, opens a PERF_COUNT_SW_BPF_OUTPUT event per CPU,
// stores the events in the map and turns their shared memory into Records.
// It may import the root package, internal, internal/sys (for sys.FD),
// internal/epoll, internal/linux and golang.org/x/sys/unix; the root
// package must never import it.
//
// Reading a record costs no system call while records wait in a ring: one
// atomic load of the ring's head when the Reader starts on it, copies of
// the record, one atomic store of the tail. Only empty rings make the
// Reader block in epoll_wait(2). ReadInto with a reused Record allocates
// nothing. For new code, package ringbuf (one ring shared by all CPUs,
// Linux 5.8) is usually the better choice: records stay in order across
// CPUs and memory is not reserved per CPU.
package perf
