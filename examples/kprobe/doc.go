// Command kprobe counts the calls of execve(2) with a kprobe on the
// kernel's sys_execve and prints the count every second:
//
//	go run -exec sudo ./examples/kprobe
//
// It shows the smallest complete bpf2go workflow: C compiled by go
// generate, the generated loadBpfObjects and bpfObjects, link.Kprobe, and
// an array map read from Go. The kernel needs CONFIG_KPROBES.
package main
