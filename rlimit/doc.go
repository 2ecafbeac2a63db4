// Package rlimit raises RLIMIT_MEMLOCK where the kernel still charges BPF
// objects to it.
//
// It sits beside the objects stage: programs that create maps call
// RemoveMemlock once at start-up. It may import internal and internal/sys
// (to probe the kernel); it must never import asm, btf, the root package or
// link.
package rlimit
