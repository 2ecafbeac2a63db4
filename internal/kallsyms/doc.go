// Package kallsyms looks up kernel symbols in /proc/kallsyms: their
// addresses and the module that owns them.
//
// It serves the stages after the specifications: the loader resolves
// typeless .ksyms externs (`extern const void sym __ksym;`) to addresses
// when the kernel has no BTF for them, kprobe links ask whether a symbol
// exists and which module owns it, and kprobe_multi links resolve names to
// addresses. It may import the standard library and internal; it must never
// import internal/sys (it calls no bpf(2)) or any package above it.
//
// /proc/kallsyms has a couple of hundred thousand lines and the kernel
// formats them anew on every read, so the scanner works on byte slices of
// one reusable buffer, allocates nothing per line and stops as early as the
// question allows.
package kallsyms
