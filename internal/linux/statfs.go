package linux

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// FSType returns the magic number of the file system that holds path
// (unix.BPF_FS_MAGIC for bpffs, unix.TRACEFS_MAGIC for tracefs). Pinning
// uses it to refuse paths outside bpffs. Cost: one statfs(2).
func FSType(path string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return int64(st.Type), nil
}
