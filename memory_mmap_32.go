//go:build 386 || arm || mips || mipsle

package ebpf

import "golang.org/x/sys/unix"

// sysMmap is the 6-argument mmap(2) of 32-bit Linux, which counts the
// offset in pages (always 0 here).
const sysMmap = unix.SYS_MMAP2
