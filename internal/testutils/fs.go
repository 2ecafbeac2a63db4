package testutils

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// mountPoints maps mount point to file system type for the current mount
// namespace.
func mountPoints() (map[string]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mounts := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superopts
		fields := strings.Fields(sc.Text())
		for i, field := range fields {
			if field == "-" && i+1 < len(fields) && len(fields) > 4 {
				mounts[fields[4]] = fields[i+1]
				break
			}
		}
	}
	return mounts, sc.Err()
}

var mountMu sync.Mutex

// ensureMount mounts a file system of type fstype at dir unless one is
// already there.
func ensureMount(dir, fstype string) error {
	mountMu.Lock()
	defer mountMu.Unlock()
	mounts, err := mountPoints()
	if err != nil {
		return err
	}
	if mounts[dir] == fstype {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(fstype, dir, fstype, 0, ""); err != nil {
		return fmt.Errorf("mount %s at %s: %w", fstype, dir, err)
	}
	return nil
}

// BPFFSPath is where the tests expect the BPF file system.
const BPFFSPath = "/sys/fs/bpf"

// TempBPFFS returns a fresh directory on the BPF file system, mounting
// bpffs at /sys/fs/bpf first if needed. The directory and everything
// pinned in it are removed when the test ends.
func TempBPFFS(tb testing.TB) string {
	tb.Helper()
	RequireRoot(tb)
	if err := ensureMount(BPFFSPath, "bpf"); err != nil {
		tb.Fatal("bpffs:", err)
	}
	dir, err := os.MkdirTemp(BPFFSPath, "bpfkit-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TracefsPath is where the tests expect tracefs.
const TracefsPath = "/sys/kernel/tracing"

// MountTracefs makes sure tracefs is mounted at /sys/kernel/tracing and
// returns that path. Tests that need tracefs fail (not skip) when it can't
// be mounted as root, since every kernel with tracepoints has it.
func MountTracefs(tb testing.TB) string {
	tb.Helper()
	RequireRoot(tb)
	if err := ensureMount(TracefsPath, "tracefs"); err != nil {
		tb.Fatal("tracefs:", err)
	}
	return TracefsPath
}
