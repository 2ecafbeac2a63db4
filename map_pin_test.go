package ebpf

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestMapPin(t *testing.T) {
	dir := testutils.TempBPFFS(t)
	m := newTestMap(t, &MapSpec{Name: "pinned", Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	qt.Assert(t, qt.IsFalse(m.IsPinned()))
	qt.Assert(t, qt.IsNil(m.Unpin()))

	path := filepath.Join(dir, "a")
	qt.Assert(t, qt.IsNil(m.Pin(path)))
	qt.Assert(t, qt.IsTrue(m.IsPinned()))
	qt.Assert(t, qt.IsNil(m.Pin(path)))
	qt.Assert(t, qt.IsNil(m.Put(uint32(1), uint32(2))))

	loaded, err := LoadPinnedMap(path, nil)
	qt.Assert(t, qt.IsNil(err))
	defer loaded.Close()
	qt.Assert(t, qt.IsTrue(loaded.IsPinned()))
	qt.Assert(t, qt.Equals(loaded.Type(), Hash))
	qt.Assert(t, qt.Equals(loaded.String(), "Hash(pinned)#"+loaded.fd.String()))
	var v uint32
	qt.Assert(t, qt.IsNil(loaded.Lookup(uint32(1), &v)))
	qt.Assert(t, qt.Equals(v, 2))

	// Moving a pin renames it; the old path is gone.
	moved := filepath.Join(dir, "b")
	qt.Assert(t, qt.IsNil(m.Pin(moved)))
	_, err = os.Stat(path)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	_, err = os.Stat(moved)
	qt.Assert(t, qt.IsNil(err))

	// A read-only descriptor can't write.
	ro, err := LoadPinnedMap(moved, &LoadPinOptions{ReadOnly: true})
	qt.Assert(t, qt.IsNil(err))
	defer ro.Close()
	qt.Assert(t, qt.ErrorIs(ro.Put(uint32(1), uint32(3)), unix.EPERM))
	qt.Assert(t, qt.IsNil(ro.Lookup(uint32(1), &v)))

	qt.Assert(t, qt.IsNil(m.Unpin()))
	qt.Assert(t, qt.IsFalse(m.IsPinned()))
	_, err = os.Stat(moved)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))

	_, err = LoadPinnedMap(filepath.Join(dir, "missing"), nil)
	qt.Assert(t, qt.ErrorIs(err, unix.ENOENT))
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))

	// Not on a bpffs.
	err = m.Pin(filepath.Join(t.TempDir(), "x"))
	qt.Assert(t, qt.ErrorMatches(err, `pin Hash\(pinned\)#fd \d+: pin path .*: .* is not on a BPF file system \(bpffs\)`))

	// A pinned program is not a map.
	prog := mapTestProgram(t, 0)
	progPath := filepath.Join(dir, "prog")
	qt.Assert(t, qt.IsNil(prog.Pin(progPath)))
	_, err = LoadPinnedMap(progPath, nil)
	qt.Assert(t, qt.ErrorMatches(err, `load pinned map .*/prog: fd \d+ refers to a bpf-prog, not a bpf-map`))
}

func TestLoadPinOptions(t *testing.T) {
	qt.Assert(t, qt.Equals((*LoadPinOptions)(nil).Marshal(), 0))
	qt.Assert(t, qt.Equals((&LoadPinOptions{ReadOnly: true}).Marshal(), unix.BPF_F_RDONLY))
	qt.Assert(t, qt.Equals((&LoadPinOptions{WriteOnly: true, Flags: 0x100}).Marshal(), unix.BPF_F_WRONLY|0x100))
}

// TestMapPinByName: a PinByName spec creates, fills and pins a map the
// first time, reuses a compatible pin afterwards (leaving its contents),
// and refuses an incompatible one.
func TestMapPinByName(t *testing.T) {
	dir := testutils.TempBPFFS(t)
	spec := &MapSpec{
		Name: "by_name", Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4,
		Pinning:  PinByName,
		Contents: []MapKV{{uint32(1), uint32(10)}},
	}
	opts := MapOptions{PinPath: dir}

	first, err := NewMapWithOptions(spec, opts)
	qt.Assert(t, qt.IsNil(err))
	defer first.Close()
	qt.Assert(t, qt.IsTrue(first.IsPinned()))
	qt.Assert(t, qt.IsNil(first.Put(uint32(1), uint32(11))))

	second, err := NewMapWithOptions(spec, opts)
	qt.Assert(t, qt.IsNil(err))
	defer second.Close()
	qt.Assert(t, qt.IsTrue(second.IsPinned()))
	var v uint32
	qt.Assert(t, qt.IsNil(second.Lookup(uint32(1), &v)))
	qt.Assert(t, qt.Equals(v, 11), qt.Commentf("the pinned map's contents must survive reuse"))

	bad := spec.Copy()
	bad.ValueSize = 8
	_, err = NewMapWithOptions(bad, opts)
	qt.Assert(t, qt.ErrorIs(err, ErrMapIncompatible))
	qt.Assert(t, qt.ErrorMatches(err, `map "by_name": use pinned map .*/by_name: Hash\(by_name\)#fd \d+: value size is 4, want 8: map spec is incompatible with existing map`))

	// A failure after creation leaves no pin behind.
	broken := spec.Copy()
	broken.Name = "broken"
	broken.Contents = []MapKV{{uint32(1), uint64(1)}}
	_, err = NewMapWithOptions(broken, opts)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = os.Stat(filepath.Join(dir, "broken"))
	qt.Assert(t, qt.IsTrue(errors.Is(err, os.ErrNotExist)))
}
