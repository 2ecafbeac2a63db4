// Package btf reads, writes and relocates the BPF Type Format.
//
// It sits beside asm at the specification stage: the ELF reader uses it to
// decode an object's types and .BTF.ext records, the loader uses it for CO-RE
// relocation against kernel types. Type decoding, encoding and CO-RE may
// import asm and internal only (besides the standard library and
// golang.org/x/sys/unix, used to map kernel BTF into memory). Loading BTF into
// the kernel (Handle) is the one part that calls bpf(2), through internal/sys,
// and lives in its own files (handle*.go) so the layering test can keep the
// rest syscall-free.
//
// The files follow the data: wire.go and wire_gen.go (generated from the UAPI
// header by internal/cmd/genbtf) describe the raw format; index.go, names.go
// and strings.go index a raw blob in one pass; decode.go, slab.go and
// cache.go turn raw types into the Go types of types.go on demand; spec.go,
// load.go, elf.go, kernel.go and mmap.go (which maps and shares the kernel's
// vmlinux) are the ways to get a Spec; marshal.go and dedup.go encode types;
// ext_info.go and ext_meta.go handle .BTF.ext; core*.go implement CO-RE;
// format.go and gofmt.go print types for people and for Go code, cformat.go
// and cdecl.go as C declarations (a vmlinux.h).
//
// The canonical description of the format is the kernel's
// Documentation/bpf/btf.rst.
package btf
