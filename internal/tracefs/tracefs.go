package tracefs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// mountPoints are where tracefs is looked for, in order. Since 4.1 tracefs
// is its own file system, mounted at /sys/kernel/tracing and automounted
// under debugfs; before, the tracing directory was part of debugfs.
var mountPoints = []struct {
	path  string
	magic int64
}{
	{"/sys/kernel/tracing", unix.TRACEFS_MAGIC},
	{"/sys/kernel/debug/tracing", unix.TRACEFS_MAGIC},
	{"/sys/kernel/debug/tracing", unix.DEBUGFS_MAGIC},
}

var tracefsPath struct {
	sync.Mutex
	path string
}

// Path returns where tracefs is mounted: /sys/kernel/tracing, or
// /sys/kernel/debug/tracing on older systems. It does not mount anything.
// A found path is remembered; a failure is not, so that a later mount is
// seen. The error wraps os.ErrNotExist. Cost: up to three statfs(2) on the
// first success, none afterwards.
func Path() (string, error) {
	tracefsPath.Lock()
	defer tracefsPath.Unlock()
	if tracefsPath.path != "" {
		return tracefsPath.path, nil
	}
	for _, mp := range mountPoints {
		var st unix.Statfs_t
		if err := unix.Statfs(mp.path, &st); err == nil && int64(st.Type) == mp.magic {
			tracefsPath.path = mp.path
			return mp.path, nil
		}
	}
	return "", fmt.Errorf("tracefs is not mounted at /sys/kernel/tracing or /sys/kernel/debug/tracing: %w", os.ErrNotExist)
}

// validIdentifier reports whether s may name a trace event group or event
// in a path: letters, digits and underscores only, so that it can never
// climb out of tracefs. Groups such as 9p start with a digit.
func validIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !isAlnum(c) && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// EventID returns the ID of the trace event group/name (a tracepoint such
// as syscalls/sys_enter_getpid, or a kprobe/uprobe event), which
// perf_event_open takes as config of a PERF_TYPE_TRACEPOINT event. group
// and name may hold only letters, digits and underscores. The error wraps
// os.ErrNotExist when the event does not exist. Cost: one small file read.
func EventID(group, name string) (uint64, error) {
	if !validIdentifier(group) {
		return 0, fmt.Errorf("trace event group %q: only letters, digits and '_' are allowed: %w", group, os.ErrInvalid)
	}
	if !validIdentifier(name) {
		return 0, fmt.Errorf("trace event name %q: only letters, digits and '_' are allowed: %w", name, os.ErrInvalid)
	}
	root, err := Path()
	if err != nil {
		return 0, fmt.Errorf("trace event %s/%s: %w", group, name, err)
	}
	data, err := readSmall(filepath.Join(root, "events", group, name, "id"))
	if err != nil {
		return 0, fmt.Errorf("trace event %s/%s: %w", group, name, err)
	}
	id, err := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("trace event %s/%s: id %q: %w", group, name, data, err)
	}
	return id, nil
}

// readSmall reads a sysfs or tracefs file that holds one short value. The
// read is bounded: such files report no size, and a value that does not fit
// is an error, not an allocation.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 64)
	n, err := io.ReadFull(f, buf)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return buf[:n], nil
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return nil, fmt.Errorf("read %s: more than %d bytes", path, len(buf))
}
