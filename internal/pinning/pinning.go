package pinning

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

// Pin pins fd at newPath and returns the path the object is pinned at
// afterwards: newPath on success, currentPath on error. Pinning to
// currentPath does nothing.
//
// An object pinned at currentPath moves by renameat2(RENAME_NOREPLACE), so
// it is pinned somewhere at every moment and a file at newPath is never
// replaced (the error wraps os.ErrExist); both paths must be on the same
// bpffs. If the old pin is gone (someone removed it), the object is pinned
// afresh at newPath.
//
// newPath's directory must be on a bpffs. That is checked first, with one
// statfs(2), because the kernel's answer for any other file system is a
// bare EPERM. Then one rename(2) or one bpf(2) (BPF_OBJ_PIN, Linux 4.4).
func Pin(currentPath, newPath string, fd *sys.FD) (string, error) {
	if newPath == "" {
		return currentPath, errors.New("empty pin path")
	}
	if fd == nil || fd.Int() < 0 {
		return currentPath, fmt.Errorf("pin path %s: object is closed: %w", newPath, sys.ErrClosedFd)
	}
	if newPath == currentPath {
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
		err := unix.Renameat2(unix.AT_FDCWD, currentPath, unix.AT_FDCWD, newPath, unix.RENAME_NOREPLACE)
		switch {
		case err == nil:
			return newPath, nil
		case errors.Is(err, unix.ENOENT):
			// The old pin is gone: pin afresh. (newPath's directory
			// exists, statfs found it.)
		case errors.Is(err, unix.EEXIST):
			// The errno matches os.ErrExist.
			return currentPath, fmt.Errorf("pin path %s: %w", newPath, err)
		case errors.Is(err, unix.EXDEV):
			return currentPath, fmt.Errorf("move pin %s to %s: pins can't move between file systems: %w", currentPath, newPath, err)
		default:
			return currentPath, fmt.Errorf("move pin %s to %s: %w", currentPath, newPath, err)
		}
	}

	err = sys.ObjPin(&sys.ObjPinAttr{Pathname: sys.NewStringPointer(newPath), BpfFd: fd.Uint()})
	runtime.KeepAlive(fd)
	if err != nil {
		return currentPath, fmt.Errorf("pin path %s: %w", newPath, err)
	}
	return newPath, nil
}

// Unpin removes the pin at path (one unlink(2)). An empty path (not
// pinned) and a pin that is already gone are not errors; any other failure
// is the *os.PathError of os.Remove.
func Unpin(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
