// Package internal holds what every stage of the library shares and that
// needs no kernel object: the ErrNotSupported sentinel and typed feature
// errors, memoized feature tests, the running kernel's version, and the
// native byte order.
//
// It sits below every other package of the module. It may import the
// standard library and golang.org/x/sys/unix; it must never import another
// package of this module, so that asm, btf and the ELF reader can use it
// without pulling in the syscall layer.
package internal
