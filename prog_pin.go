package ebpf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/linux"
	"github.com/bpfkit/ebpf/internal/sys"
)

// pinFD pins fd at newPath and returns the path the object is pinned at
// afterwards. An object already pinned at currentPath is moved there by a
// rename, so that it is never unpinned in between; the new path must not
// exist. newPath's directory must be on a bpffs: any other file system
// would give the kernel's puzzling EPERM, so it is checked first (one
// statfs(2)).
func pinFD(currentPath, newPath string, fd *sys.FD) (string, error) {
	if newPath == "" {
		return currentPath, errors.New("empty pin path")
	}
	if fd == nil || fd.Int() < 0 {
		return currentPath, errors.New("object is closed")
	}
	if currentPath == newPath {
		return currentPath, nil
	}

	dir := filepath.Dir(newPath)
	magic, err := linux.FSType(dir)
	if err != nil {
		return currentPath, fmt.Errorf("pin path %s: %w", newPath, err)
	}
	if magic != unix.BPF_FS_MAGIC {
		return currentPath, fmt.Errorf("pin path %s: %s is not on a BPF file system (bpffs)", newPath, dir)
	}

	if currentPath != "" {
		if _, err := os.Lstat(newPath); err == nil {
			return currentPath, fmt.Errorf("pin path %s: %w", newPath, os.ErrExist)
		}
		if err := os.Rename(currentPath, newPath); err != nil {
			if errors.Is(err, unix.EXDEV) {
				return currentPath, fmt.Errorf("move pin %s to %s: pins can't move between file systems: %w", currentPath, newPath, err)
			}
			return currentPath, fmt.Errorf("move pin %s to %s: %w", currentPath, newPath, err)
		}
		return newPath, nil
	}

	attr := sys.ObjPinAttr{Pathname: sys.NewStringPointer(newPath), BpfFd: fd.Uint()}
	err = sys.ObjPin(&attr)
	runtime.KeepAlive(fd)
	if err != nil {
		return currentPath, fmt.Errorf("pin path %s: %w", newPath, err)
	}
	return newPath, nil
}

// unpinPath removes a pin. An empty path (not pinned) and a pin that is
// already gone are not errors.
func unpinPath(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
