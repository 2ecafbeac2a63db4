// Command kprobe_percpu counts the calls of execve(2) like the kprobe
// example, in a per-CPU array: each CPU increments its own counter without
// atomics, and Go reads one value per possible CPU and adds them up.
//
//	go run -exec sudo ./examples/kprobe_percpu
package main
