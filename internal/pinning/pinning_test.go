package pinning

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestMain(m *testing.M) { testutils.TestMain(m) }

// newMap creates a one-entry array to pin.
func newMap(tb testing.TB) *sys.FD {
	tb.Helper()
	fd, err := sys.MapCreate(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	qt.Assert(tb, qt.IsNil(err))
	tb.Cleanup(func() { fd.Close() })
	return fd
}

// mapID is the ID of the map pinned at path.
func mapID(tb testing.TB, path string) uint32 {
	tb.Helper()
	fd, err := sys.ObjGet(&sys.ObjGetAttr{Pathname: sys.NewStringPointer(path)})
	qt.Assert(tb, qt.IsNil(err))
	defer fd.Close()
	var info sys.MapInfo
	qt.Assert(tb, qt.IsNil(sys.ObjInfo(fd, &info)))
	return info.Id
}

func TestPin(t *testing.T) {
	dir := testutils.TempBPFFS(t)
	fd, other := newMap(t), newMap(t)
	var want sys.MapInfo
	qt.Assert(t, qt.IsNil(sys.ObjInfo(fd, &want)))

	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	path, err := Pin("", a, fd)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(path, a))
	qt.Assert(t, qt.Equals(mapID(t, a), want.Id))

	// The same path again does nothing.
	path, err = Pin(a, a, fd)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(path, a))

	// Moving renames the pin.
	path, err = Pin(a, b, fd)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(path, b))
	_, err = os.Stat(a)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.Equals(mapID(t, b), want.Id))

	// An occupied path is never replaced, neither by a move nor by a
	// fresh pin.
	_, err = Pin("", c, other)
	qt.Assert(t, qt.IsNil(err))
	path, err = Pin(b, c, fd)
	qt.Assert(t, qt.ErrorIs(err, os.ErrExist))
	qt.Assert(t, qt.ErrorMatches(err, `pin path .*/c: file exists`))
	qt.Assert(t, qt.Equals(path, b))
	path, err = Pin("", c, fd)
	qt.Assert(t, qt.ErrorIs(err, os.ErrExist))
	qt.Assert(t, qt.Equals(path, ""))
	qt.Assert(t, qt.Equals(mapID(t, b), want.Id))

	// A pin someone else removed: the object is pinned afresh.
	qt.Assert(t, qt.IsNil(os.Remove(b)))
	path, err = Pin(b, a, fd)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(path, a))
	qt.Assert(t, qt.Equals(mapID(t, a), want.Id))

	qt.Assert(t, qt.IsNil(Unpin(a)))
	_, err = os.Stat(a)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.IsNil(Unpin(a)))
	qt.Assert(t, qt.IsNil(Unpin("")))
}

func TestPinErrors(t *testing.T) {
	dir := testutils.TempBPFFS(t)
	fd := newMap(t)
	closed := newMap(t)
	qt.Assert(t, qt.IsNil(closed.Close()))

	// A second bpffs: pins can't move between file systems.
	otherFS := t.TempDir()
	qt.Assert(t, qt.IsNil(unix.Mount("bpf", otherFS, "bpf", 0, "")))
	t.Cleanup(func() { unix.Unmount(otherFS, unix.MNT_DETACH) })
	pinned := filepath.Join(dir, "pinned")
	_, err := Pin("", pinned, fd)
	qt.Assert(t, qt.IsNil(err))

	for _, tc := range []struct {
		name          string
		current, path string
		fd            *sys.FD
		want          string
		is            error
	}{
		{name: "empty path", path: "", fd: fd, want: `empty pin path`},
		{name: "nil fd", path: filepath.Join(dir, "x"), want: `pin path .*/x: object is closed: bad file descriptor`, is: sys.ErrClosedFd},
		{name: "closed fd", path: filepath.Join(dir, "x"), fd: closed, want: `pin path .*/x: object is closed: bad file descriptor`, is: sys.ErrClosedFd},
		{name: "not bpffs", path: filepath.Join(t.TempDir(), "x"), fd: fd, want: `pin path .*/x: .* is not on a BPF file system \(bpffs\)`},
		{name: "missing dir", path: filepath.Join(dir, "missing", "x"), fd: fd, want: `pin path .*/missing/x: .*`, is: os.ErrNotExist},
		{name: "other bpffs", current: pinned, path: filepath.Join(otherFS, "x"), fd: fd, want: `move pin .*/pinned to .*/x: pins can't move between file systems: .*`, is: unix.EXDEV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, err := Pin(tc.current, tc.path, tc.fd)
			qt.Assert(t, qt.ErrorMatches(err, tc.want))
			if tc.is != nil {
				qt.Assert(t, qt.ErrorIs(err, tc.is))
			}
			qt.Assert(t, qt.Equals(path, tc.current))
		})
	}
	_, err = os.Stat(pinned)
	qt.Assert(t, qt.IsNil(err))

	// Unpin reports what isn't a missing pin.
	full := filepath.Join(t.TempDir(), "dir")
	qt.Assert(t, qt.IsNil(os.MkdirAll(filepath.Join(full, "child"), 0o700)))
	qt.Assert(t, qt.ErrorMatches(Unpin(full), `remove .*/dir: directory not empty`))
}
