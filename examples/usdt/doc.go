// Command usdt prints the arguments of a USDT probe (a <sys/sdt.h>
// STAP_PROBE or DTRACE_PROBE site) each time a process hits it, or lists a
// file's probes:
//
//	go run -exec sudo ./examples/usdt -binary /usr/bin/python3.11
//	go run -exec sudo ./examples/usdt -binary /usr/bin/python3.11 -probe python:gc__start
//
// It shows link.Executable.USDTProbes and USDT with a program written
// against libbpf's usdt.bpf.h interface (../headers/usdt.h stands in for
// <bpf/usdt.bpf.h>, since the examples build with -nostdinc): the same
// object would attach with libbpf's bpf_program__attach_usdt. A probe with
// a semaphore is only fired while traced; the kernel raises it (4.20).
// The object is built per architecture because, on kernels without BPF
// cookies, usdt.h reads the instruction pointer from struct pt_regs.
package main
