// Package gen holds the steps of bpf2go: the targets it compiles for
// (FindTarget), compiling C with clang (Compile), choosing the BTF types to
// declare (CollectGlobalTypes) and writing the Go bindings (Generate).
//
// It sits above the ELF reader and btf: it reads compiled objects and BTF
// and never calls bpf(2). It may import the root package and btf, never
// link or internal/sys.
package gen
