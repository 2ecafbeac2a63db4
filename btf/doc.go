// Package btf reads, writes and relocates the BPF Type Format.
//
// It sits beside asm at the specification stage: the ELF reader uses it to
// decode an object's types and .BTF.ext records, the loader uses it for CO-RE
// relocation against kernel types. Type decoding, encoding and CO-RE may
// import asm and internal only. Loading BTF into the kernel (Handle) is the
// one part that calls bpf(2), through internal/sys, and lives in its own
// files so the layering test can keep the rest syscall-free.
package btf
