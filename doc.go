// Package ebpf reads, loads and manages eBPF programs and maps.
//
// The library follows the data flow of a BPF object:
//
//	ELF -> specifications -> objects -> links
//
// LoadCollectionSpec turns a clang-built ELF object into a CollectionSpec of
// ProgramSpecs, MapSpecs and VariableSpecs. Specifications are plain values
// that need no privileges and make no syscalls. NewCollection, NewMap and
// NewProgram turn specifications into kernel objects through bpf(2); the
// link package attaches programs to hooks.
//
// In this package, the ELF reader (elf_*.go) and the specifications
// (*_spec.go) import nothing that touches the kernel; the objects (map.go,
// prog.go, collection.go and their helpers) call bpf(2) only through
// internal/sys. This package never imports link.
package ebpf
