// Command ringbuffer prints a line for every program started on the
// machine, sent by a program on the sched/sched_process_exec tracepoint
// through a BPF ring buffer (Linux 5.8):
//
//	go run -exec sudo ./examples/ringbuffer
//
// It shows bpf_ringbuf_reserve/submit in C, the ringbuf reader, and a type
// bpf2go declares on request (-type event) to decode the records.
package main
