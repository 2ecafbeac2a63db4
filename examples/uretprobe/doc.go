// Command uretprobe prints what a function of a program returns, each
// time any process running that program returns from it:
//
//	go run -exec sudo ./examples/uretprobe -binary /usr/bin/foo -symbol compute
//
// It shows link.OpenExecutable and Uretprobe, and bpf2go's architecture
// targets (-target amd64,arm64): reading a register needs the layout of
// struct pt_regs, so the object is built per architecture
// (bpf_x86_bpfel.go, bpf_arm64_bpfel.go). Don't probe Go functions with
// uretprobes: Go moves goroutine stacks, which breaks the return trampoline.
package main
