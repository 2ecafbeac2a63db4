// Command tracepoint_in_c counts thread renames per new name with a program
// on the task/task_rename tracepoint, and prints the counts every second:
//
//	go run -exec sudo ./examples/tracepoint_in_c
//
// It shows a tracepoint program reading its record through a CO-RE
// declaration (the kernel's BTF says where newcomm is), link.Tracepoint,
// and a hash map keyed by a struct that bpf2go declared in Go (bpfName).
package main
