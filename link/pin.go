package link

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/linux"
	"github.com/bpfkit/ebpf/internal/sys"
)

// pinFD pins the link fd at newPath and returns where it is pinned
// afterwards (currentPath on error). A link pinned at currentPath moves by
// renameat2(RENAME_NOREPLACE), so it is pinned somewhere at every moment
// and an existing file at newPath is never replaced. newPath's directory
// must be on bpffs; that is checked first (one statfs(2)) because the
// kernel's answer for other file systems is a bare EPERM.
func pinFD(currentPath, newPath string, fd *sys.FD) (string, error) {
	if newPath == "" {
		return currentPath, errors.New("pin link: empty path")
	}
	if fd.Int() < 0 {
		return currentPath, fmt.Errorf("pin link at %s: %w", newPath, sys.ErrClosedFd)
	}
	if newPath == currentPath {
		return currentPath, nil
	}
	dir := filepath.Dir(newPath)
	magic, err := linux.FSType(dir)
	if err != nil {
		return currentPath, fmt.Errorf("pin link at %s: %w", newPath, err)
	}
	if magic != unix.BPF_FS_MAGIC {
		return currentPath, fmt.Errorf("pin link at %s: %s is not on a BPF file system (bpffs)", newPath, dir)
	}

	if currentPath != "" {
		err := unix.Renameat2(unix.AT_FDCWD, currentPath, unix.AT_FDCWD, newPath, unix.RENAME_NOREPLACE)
		switch {
		case err == nil:
			return newPath, nil
		case errors.Is(err, unix.ENOENT):
			// The old pin is gone (removed by someone else): pin afresh.
		case errors.Is(err, unix.EEXIST):
			return currentPath, fmt.Errorf("move link pin %s to %s: %w", currentPath, newPath, os.ErrExist)
		default:
			return currentPath, fmt.Errorf("move link pin %s to %s: %w", currentPath, newPath, err)
		}
	}

	err = sys.ObjPin(&sys.ObjPinAttr{Pathname: sys.NewStringPointer(newPath), BpfFd: fd.Uint()})
	runtime.KeepAlive(fd)
	if err != nil {
		if errors.Is(err, unix.EEXIST) {
			err = fmt.Errorf("%w (%w)", os.ErrExist, err)
		}
		return currentPath, fmt.Errorf("pin link at %s: %w", newPath, err)
	}
	return newPath, nil
}

// unpinPath removes a pin; an empty path and a pin already gone are fine.
func unpinPath(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("unpin link: %w", err)
	}
	return nil
}

// loadPinnedRawLink opens the link pinned at fileName with BPF_OBJ_GET
// file flags (BPF_F_RDONLY, BPF_F_WRONLY). The result remembers the path,
// so Unpin removes it.
func loadPinnedRawLink(fileName string, fileFlags uint32) (*RawLink, error) {
	fd, err := sys.ObjGet(&sys.ObjGetAttr{Pathname: sys.NewStringPointer(fileName), FileFlags: fileFlags})
	if err != nil {
		return nil, fmt.Errorf("load pinned link %s: %w", fileName, notExist(err))
	}
	return &RawLink{fd: fd, pinnedPath: fileName}, nil
}

// LoadPinnedLink opens the link pinned at fileName, with the Go type of its
// kernel link type (see NewFromFD). Unpin on the result removes the pin.
// opts may be nil; the kernel opens links read-write only (ReadOnly and
// WriteOnly give EINVAL). Two bpf(2) calls; requires Linux 5.8.
func LoadPinnedLink(fileName string, opts *ebpf.LoadPinOptions) (Link, error) {
	var flags uint32
	if opts != nil {
		flags = opts.Marshal()
	}
	raw, err := loadPinnedRawLink(fileName, flags)
	if err != nil {
		return nil, err
	}
	l, err := wrapRawLink(raw)
	if err != nil {
		return nil, fmt.Errorf("load pinned link %s: %w", fileName, err)
	}
	return l, nil
}
