// Package asm is an assembler and disassembler for eBPF instructions.
//
// It sits at the bottom of the data flow: the ELF reader decodes programs
// with it, btf attaches line and CO-RE information to its instructions as
// metadata, and the loader rewrites them before handing them to the kernel.
// It may import the standard library and internal; it must never import
// internal/sys or anything that makes a syscall.
package asm
