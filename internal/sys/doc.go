// Package sys is the only code in the module that calls bpf(2).
//
// It holds the wire types of the kernel's bpf(2) interface (union bpf_attr
// members and the bpf_*_info structs, generated from the UAPI header), a file
// descriptor type, and one typed wrapper per command. Everything that makes
// kernel objects (maps, programs, BTF handles, links) goes through it. It may
// import internal and golang.org/x/sys/unix; it must never import asm, btf,
// the root package or link.
package sys
