package link

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// maxProgramBTF bounds the BTF of a program read from the kernel. Program
// BTF holds the types of one object file; vmlinux's (~6 MiB) is the
// largest BTF a kernel has.
const maxProgramBTF = 64 << 20

// dupProgram returns a descriptor of its own for prog, for sys calls that
// take a *sys.FD. The caller closes it. One fcntl(2).
func dupProgram(prog *ebpf.Program) (*sys.FD, error) {
	fd, err := programFD(prog)
	if err != nil {
		return nil, err
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 1)
	runtime.KeepAlive(prog)
	if err != nil {
		return nil, fmt.Errorf("duplicate fd of program %s: %w", prog, err)
	}
	return sys.NewFD(dup)
}

// programFuncID returns the BTF type ID of the function name in the BTF
// prog was loaded with, which is what BPF_LINK_CREATE wants as the target
// of an extension. Costs four bpf(2) calls and decoding the program's BTF.
func programFuncID(prog *ebpf.Program, name string) (btf.TypeID, error) {
	fd, err := dupProgram(prog)
	if err != nil {
		return 0, err
	}
	defer fd.Close()
	var info sys.ProgInfo
	if err := sys.ObjInfo(fd, &info); err != nil {
		return 0, fmt.Errorf("program info: %w", err)
	}
	if info.BtfId == 0 {
		return 0, errors.New("program has no BTF")
	}
	raw, err := readBTF(info.BtfId)
	if err != nil {
		return 0, err
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return 0, fmt.Errorf("BTF %d: %w", info.BtfId, err)
	}
	var fn *btf.Func
	if err := spec.TypeByName(name, &fn); err != nil {
		return 0, fmt.Errorf("function %s in BTF %d: %w", name, info.BtfId, err)
	}
	return spec.TypeID(fn)
}

// readBTF returns the raw BTF of the kernel BTF object id: one call to learn
// its size, bounded by maxProgramBTF, and one to copy it.
func readBTF(id uint32) ([]byte, error) {
	fd, err := sys.BtfGetFdById(&sys.BtfGetFdByIdAttr{BtfId: id})
	if err != nil {
		return nil, fmt.Errorf("open BTF %d: %w", id, err)
	}
	defer fd.Close()
	var info sys.BtfInfo
	if err := sys.ObjInfo(fd, &info); err != nil {
		return nil, fmt.Errorf("BTF %d info: %w", id, err)
	}
	if info.BtfSize == 0 || info.BtfSize > maxProgramBTF {
		return nil, fmt.Errorf("BTF %d: size %d is not in (0, %d]", id, info.BtfSize, maxProgramBTF)
	}
	raw := make([]byte, info.BtfSize)
	info = sys.BtfInfo{Btf: sys.NewSlicePointer(raw), BtfSize: uint32(len(raw))}
	err = sys.ObjInfo(fd, &info)
	runtime.KeepAlive(raw)
	if err != nil {
		return nil, fmt.Errorf("read BTF %d: %w", id, err)
	}
	return raw[:min(int(info.BtfSize), len(raw))], nil
}
