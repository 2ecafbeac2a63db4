package btf

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/bpfkit/ebpf/internal/sys"
	"golang.org/x/sys/unix"
)

// This file and handle_*.go are the part of btf that talks to the kernel,
// through internal/sys; nothing else in the package does.

// Handle is a BTF blob loaded into the kernel (a BTF file descriptor), as
// programs and maps reference it.
type Handle struct {
	fd *sys.FD
	// size is the size of the raw BTF, 0 if unknown.
	size uint32
}

// NewHandle loads the types of b into the kernel, encoded for the running
// kernel (KernelMarshalOptions: kinds it does not know are rewritten).
//
// Returns an error wrapping ErrNotSupported if the kernel has no BTF
// (Linux 4.18, BPF_BTF_LOAD).
func NewHandle(b *Builder) (*Handle, error) {
	if b == nil {
		return nil, errors.New("nil Builder")
	}
	raw, err := b.Marshal(nil, KernelMarshalOptions())
	if err != nil {
		return nil, fmt.Errorf("marshal BTF: %w", err)
	}
	return NewHandleFromRawBTF(raw)
}

// NewHandleFromRawBTF loads raw BTF, as Builder.Marshal writes it, into the
// kernel. If the kernel rejects it, the error includes the kernel's log.
//
// Returns an error wrapping ErrNotSupported if the kernel has no BTF.
func NewHandleFromRawBTF(btf []byte) (*Handle, error) {
	if len(btf) == 0 {
		return nil, errors.New("empty BTF")
	}
	if uint64(len(btf)) > math.MaxUint32 {
		return nil, errors.New("BTF exceeds 4 GiB")
	}
	attr := sys.BtfLoadAttr{Btf: sys.NewSlicePointer(btf), BtfSize: uint32(len(btf))}
	fd, err := sys.BtfLoad(&attr)
	if err == nil {
		return &Handle{fd: fd, size: uint32(len(btf))}, nil
	}
	if err := haveBTF(); err != nil {
		return nil, err
	}
	if errors.Is(err, unix.EPERM) {
		return nil, fmt.Errorf("load BTF: %w (needs CAP_BPF or CAP_SYS_ADMIN)", err)
	}

	// Load again with a log to say why.
	logSize := uint32(64 << 10)
	for {
		log := make([]byte, logSize)
		attr.BtfLogBuf = sys.NewSlicePointer(log)
		attr.BtfLogSize = logSize
		attr.BtfLogLevel = 1
		attr.BtfLogTrueSize = 0
		fd, logErr := sys.BtfLoad(&attr)
		if logErr == nil {
			// Loading succeeded the second time (a transient error).
			return &Handle{fd: fd, size: uint32(len(btf))}, nil
		}
		if errors.Is(logErr, unix.ENOSPC) && logSize < 16<<20 {
			logSize = max(attr.BtfLogTrueSize, logSize*4)
			continue
		}
		return nil, fmt.Errorf("load BTF: %w%s", err, formatKernelLog(log))
	}
}

// formatKernelLog returns the last lines of a kernel log, which say what
// failed, as a suffix for an error message.
func formatKernelLog(log []byte) string {
	if i := bytes.IndexByte(log, 0); i >= 0 {
		log = log[:i]
	}
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return ""
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return ": " + strings.Join(lines, ": ")
}

// NewHandleFromID returns a Handle for the BTF with the given ID. Prefer the
// Handle of a program or map when there is one.
//
// Returns an error wrapping os.ErrNotExist if there is no BTF with that ID.
// Requires CAP_SYS_ADMIN.
func NewHandleFromID(id ID) (*Handle, error) {
	fd, err := sys.BtfGetFdById(&sys.BtfGetFdByIdAttr{BtfId: uint32(id)})
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("BTF id %d: %w", id, os.ErrNotExist)
		}
		return nil, fmt.Errorf("BTF id %d: %w", id, err)
	}
	h := &Handle{fd: fd}
	info, err := h.Info()
	if err != nil {
		h.Close()
		return nil, err
	}
	h.size = info.size
	return h, nil
}

// Spec reads the BTF behind the handle back from the kernel and parses it.
// base must be the kernel's Spec if the handle is a kernel module's BTF
// (which is split BTF); it may be nil otherwise. The kernel's own BTF is not
// copied: the Spec shares LoadKernelSpec's index.
func (h *Handle) Spec(base *Spec) (*Spec, error) {
	info, err := h.Info()
	if err != nil {
		return nil, err
	}
	if info.IsVmlinux() {
		if spec, err := LoadKernelSpec(); err == nil {
			return spec, nil
		}
	}
	if info.IsModule() && base == nil {
		return nil, fmt.Errorf("BTF of module %s: split BTF needs the kernel's Spec as base", info.Name)
	}
	buf := make([]byte, info.size)
	btfInfo := sys.BtfInfo{Btf: sys.NewSlicePointer(buf), BtfSize: uint32(len(buf))}
	if err := sys.ObjInfo(h.fd, &btfInfo); err != nil {
		return nil, fmt.Errorf("read BTF id %d: %w", info.ID, err)
	}
	if btfInfo.BtfSize != uint32(len(buf)) {
		return nil, fmt.Errorf("read BTF id %d: size changed from %d to %d", info.ID, len(buf), btfInfo.BtfSize)
	}
	var baseRaw *rawSpec
	if info.IsModule() {
		baseRaw = base.raw
	}
	raw, err := newRawSpec(buf, baseRaw)
	if err != nil {
		return nil, fmt.Errorf("BTF id %d: %w", info.ID, err)
	}
	return newSpec(raw), nil
}

// Close releases the handle.
func (h *Handle) Close() error {
	if h == nil {
		return nil
	}
	return h.fd.Close()
}

// FD returns the file descriptor, or -1 after Close.
func (h *Handle) FD() int { return h.fd.Int() }

// Clone returns a second Handle for the same BTF, with its own file
// descriptor. Cloning a nil Handle returns nil.
func (h *Handle) Clone() (*Handle, error) {
	if h == nil {
		return nil, nil
	}
	fd, err := h.fd.Dup()
	if err != nil {
		return nil, err
	}
	return &Handle{fd: fd, size: h.size}, nil
}

// HandleInfo describes BTF loaded into the kernel.
type HandleInfo struct {
	// ID of the BTF in the kernel; valid while a handle keeps it alive.
	ID ID
	// Name is set by the kernel for its own BTF: "vmlinux" or the
	// module's name.
	Name string
	// IsKernel is true for the kernel's and modules' BTF.
	IsKernel bool

	size uint32
}

// IsVmlinux reports whether the BTF is the kernel's own.
func (i *HandleInfo) IsVmlinux() bool { return i.IsKernel && i.Name == "vmlinux" }

// IsModule reports whether the BTF is a kernel module's.
func (i *HandleInfo) IsModule() bool { return i.IsKernel && i.Name != "vmlinux" }

// Info asks the kernel about the handle (one bpf(2) call).
func (h *Handle) Info() (*HandleInfo, error) {
	name := make([]byte, 64)
	info := sys.BtfInfo{Name: sys.NewSlicePointer(name), NameLen: uint32(len(name))}
	if err := sys.ObjInfo(h.fd, &info); err != nil {
		return nil, fmt.Errorf("BTF info: %w", err)
	}
	return &HandleInfo{
		ID:       ID(info.Id),
		Name:     unix.ByteSliceToString(name),
		IsKernel: info.KernelBtf != 0,
		size:     info.BtfSize,
	}, nil
}

// HandleIterator walks the BTF loaded into the kernel, by ID. Requires
// CAP_SYS_ADMIN.
//
//	it := new(btf.HandleIterator)
//	for it.Next() { ... it.Handle ... }
//	if err := it.Err(); err != nil { ... }
type HandleIterator struct {
	// ID of the current BTF; valid after Next returned true.
	ID ID
	// Handle of the current BTF, closed by the next call to Next unless
	// taken with Take.
	Handle *Handle
	err    error
}

// Next moves to the BTF with the next higher ID and reports whether there
// was one. BTF that disappears between listing and opening is skipped.
func (it *HandleIterator) Next() bool {
	if it.err != nil {
		return false
	}
	it.Handle.Close()
	it.Handle = nil
	for {
		attr := sys.BtfGetNextIdAttr{StartId: uint32(it.ID)}
		if err := sys.BtfGetNextId(&attr); err != nil {
			if !errors.Is(err, unix.ENOENT) {
				it.err = fmt.Errorf("next BTF id after %d: %w", it.ID, err)
			}
			return false
		}
		it.ID = ID(attr.NextId)
		h, err := NewHandleFromID(it.ID)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			it.err = err
			return false
		}
		it.Handle = h
		return true
	}
}

// Take returns the current Handle, which the caller must close, and keeps
// Next from closing it.
func (it *HandleIterator) Take() *Handle {
	h := it.Handle
	it.Handle = nil
	return h
}

// Err returns the error that stopped iteration, if any.
func (it *HandleIterator) Err() error { return it.err }

// FindHandle returns the first loaded BTF, by ID, for which predicate is
// true. Requires CAP_SYS_ADMIN.
//
// Returns an error wrapping ErrNotFound if there is none.
func FindHandle(predicate func(info *HandleInfo) bool) (*Handle, error) {
	it := new(HandleIterator)
	defer it.Handle.Close()
	for it.Next() {
		info, err := it.Handle.Info()
		if err != nil {
			return nil, fmt.Errorf("BTF id %d: %w", it.ID, err)
		}
		if predicate(info) {
			return it.Take(), nil
		}
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("BTF handle: %w", ErrNotFound)
}

// MarshalMapKV loads BTF holding a map's key and value types into the
// kernel and returns their IDs in it; nil types get ID 0. It is meant for
// the ebpf package's map creation.
func MarshalMapKV(key, value Type) (_ *Handle, keyID, valueID TypeID, err error) {
	var b Builder
	if key != nil {
		if keyID, err = b.Add(key); err != nil {
			return nil, 0, 0, fmt.Errorf("add key type: %w", err)
		}
	}
	if value != nil {
		if valueID, err = b.Add(value); err != nil {
			return nil, 0, 0, fmt.Errorf("add value type: %w", err)
		}
	}
	h, err := NewHandle(&b)
	if err != nil {
		return nil, 0, 0, err
	}
	return h, keyID, valueID, nil
}
