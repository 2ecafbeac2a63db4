// Command fentry prints every outgoing IPv4 TCP connection (the command,
// source and destination), from an fentry program on the kernel's
// tcp_connect():
//
//	go run -exec sudo ./examples/fentry
//
// It shows a tracing program with typed arguments and CO-RE (Linux 5.5,
// BTF), and link.AttachTracing. Kernels that forbid tracing programs
// (lockdown) refuse to load it.
package main
