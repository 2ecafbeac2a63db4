// Command tracepoint_in_go counts the programs started (execve(2)) with a
// program written in Go with the asm package instead of C: no compiler, no
// bpf2go. It attaches to the sched/sched_process_exec tracepoint and
// prints the count every second:
//
//	go run -exec sudo ./examples/tracepoint_in_go
//
// It shows ebpf.NewMap, asm instructions referring to a map by descriptor,
// ebpf.NewProgram and link.Tracepoint.
package main
