// Command kprobepin counts the calls of execve(2) like the kprobe example,
// in a map pinned on the BPF file system: run it twice and the second run
// goes on counting where the first stopped.
//
//	go run -exec sudo ./examples/kprobepin [-pin-dir /sys/fs/bpf/kprobepin]
//
// It shows CollectionOptions.Maps.PinPath with a map that asks to be pinned
// by name (LIBBPF_PIN_BY_NAME). Remove the directory to start from zero.
package main
