// Command cgroup_skb counts the packets that the processes of a cgroup
// (and its descendants) send, and prints the count every second:
//
//	go run -exec sudo ./examples/cgroup_skb [-cgroup /sys/fs/cgroup/user.slice]
//
// Without -cgroup it watches the root of the cgroup v2 hierarchy: every
// process.
//
// It shows a cgroup_skb/egress program and link.AttachCgroup (a BPF link
// since 5.7, program attachment before that).
package main
