// Command tcprtt_sockops prints the smoothed round-trip time of the IPv4
// TCP connections of a cgroup's processes at every RTT sample, from a
// sockops program:
//
//	go run -exec sudo ./examples/tcprtt_sockops [-cgroup /sys/fs/cgroup/user.slice]
//
// It shows a sockops program asking the kernel for more callbacks
// (bpf_sock_ops_cb_flags_set), link.AttachCgroup with AttachCGroupSockOps,
// and a ring buffer of events whose Go type bpf2go declared.
package main
