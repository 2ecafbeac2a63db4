//go:build !(386 || arm || mips || mipsle)

package ebpf

import "golang.org/x/sys/unix"

// sysMmap is mmap(2).
const sysMmap = unix.SYS_MMAP
