// Command bpf2go compiles C files to BPF with clang (several are linked into
// one object, as bpftool gen object links them) and writes Go bindings
// that embed the object, with the command line and the generated API of
// cilium/ebpf's bpf2go: a project that switches libraries changes the
// import path in its go:generate lines and nothing else.
//
// It sits on top of the whole flow: it runs clang, reads the object with
// LoadCollectionSpec (ELF reader, specs, BTF) and declares Go types with
// btf.GoFormatter. It makes no bpf(2) call. The generated code imports
// only the root package.
//
// Use it as a tool of your module (Go 1.24+):
//
//	go get -tool github.com/bpfkit/ebpf/cmd/bpf2go
//	//go:generate go tool bpf2go -tags linux bpf prog.c -- -I./headers
//
// or with go run github.com/bpfkit/ebpf/cmd/bpf2go. For each target (by
// default bpfel and bpfeb) it writes <stem>_<target>.o and
// <stem>_<target>.go, whose build constraint selects the GOARCHes of the
// target's byte order. The package gen holds the steps (targets,
// compiling, generating) for programs that drive them.
package main
