// Package sys is the only code in the module that calls bpf(2).
//
// It sits between the objects (maps, programs, BTF handles, links) and the
// kernel. It may import internal and golang.org/x/sys/unix; it must never
// import asm, btf, the root package or link.
//
// Everything goes through one door, BPF, which retries EINTR (and EAGAIN
// from the verifier), turns errnos into errors that errors.Is matches, and
// lets tests fail any call with InjectFaults. On top of it sit:
//
//   - the wire types, generated from internal/cmd/uapi/bpf-uapi.h by
//     internal/cmd/gensys: one struct per command (MapCreateAttr, ...), the
//     info structs (ProgInfo, MapInfo, BtfInfo, LinkInfo and one per link
//     type), and the kernel's enums as typed constants (enums.go);
//   - one typed wrapper per command (MapCreate, MapLookupElem, ProgLoad,
//     ...), which for the element commands does not allocate;
//   - FD, the owner of a kernel object's file descriptor, with optional
//     leak tracking for tests; ObjInfo for the info structs; Pointer for
//     user space addresses in wire structs; ObjName for object names.
//
// The generated structs have the kernel's layout on every architecture:
// the generator makes all padding explicit, and Pointer is 8 bytes with the
// address in the right half on 32-bit platforms. A test compares every
// member's offset with what gcc computes from the header.
package sys

//go:generate go run ../cmd/gensys -in ../cmd/uapi/bpf-uapi.h -out .
