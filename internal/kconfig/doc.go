// Package kconfig reads the running kernel's build configuration and turns
// its values into the bytes of a BPF object's .kconfig externs.
//
// It sits beside the loader, between a CollectionSpec and its kernel
// objects: when a program declares `extern int CONFIG_HZ __kconfig;`, the
// loader asks Parse for exactly the names it needs and writes each value with
// PutValue, using the C type it derived from BTF. It may import the standard
// library, golang.org/x/sys/unix and internal; it must never import
// internal/sys (it calls no bpf(2)), btf or the root package, so that the
// extern's type reaches it as a small Type description instead.
//
// The semantics follow libbpf: bool takes y or n, the libbpf_tristate enum
// takes y (1), m (2) or n (0), char arrays take quoted strings, integers take
// decimal, octal or hexadecimal numbers that fit their size. Lines of the
// form "# CONFIG_X is not set" read as "n", so a strong bool or tristate
// extern resolves where libbpf would leave it unset.
package kconfig
