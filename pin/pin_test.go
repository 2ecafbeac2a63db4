package pin

import (
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal/testutils"
	"github.com/bpfkit/ebpf/link"
	"github.com/bpfkit/ebpf/rlimit"
)

func TestMain(m *testing.M) { testutils.TestMain(m, rlimit.RemoveMemlock) }

func pinnedMap(t *testing.T, path string) *ebpf.Map {
	t.Helper()
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "pinned", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { m.Close() })
	qt.Assert(t, qt.IsNil(m.Pin(path)))
	return m
}

func program(t *testing.T, typ ebpf.ProgramType) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "pinned", Type: typ, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { p.Close() })
	return p
}

func pinnedProgram(t *testing.T, path string) *ebpf.Program {
	t.Helper()
	p := program(t, ebpf.SocketFilter)
	qt.Assert(t, qt.IsNil(p.Pin(path)))
	return p
}

// pinnedLink attaches a raw tracepoint program to task_rename (a link that
// needs no device or cgroup) and pins the link. Not to sys_enter: enabling
// a syscall tracepoint patches the syscall entry every thread runs through,
// which has hung guests under qemu's TCG (see link/tracepoint_test.go).
func pinnedLink(t *testing.T, path string) link.Link {
	t.Helper()
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "task_rename", Program: program(t, ebpf.RawTracepoint)})
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { l.Close() })
	qt.Assert(t, qt.IsNil(l.Pin(path)))
	return l
}

func TestLoad(t *testing.T) {
	dir := testutils.TempBPFFS(t)
	mapPath := filepath.Join(dir, "map")
	progPath := filepath.Join(dir, "prog")
	linkPath := filepath.Join(dir, "link")
	m := pinnedMap(t, mapPath)
	p := pinnedProgram(t, progPath)
	l := pinnedLink(t, linkPath)

	obj, err := Load(mapPath, nil)
	qt.Assert(t, qt.IsNil(err))
	defer obj.Close()
	gotMap, ok := obj.(*ebpf.Map)
	qt.Assert(t, qt.IsTrue(ok), qt.Commentf("%T", obj))
	qt.Assert(t, qt.Equals(gotMap.Type(), m.Type()))
	qt.Assert(t, qt.IsTrue(gotMap.IsPinned()))
	mi, err := m.Info()
	qt.Assert(t, qt.IsNil(err))
	gmi, err := gotMap.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(gmi.Name, mi.Name))

	obj, err = Load(progPath, nil)
	qt.Assert(t, qt.IsNil(err))
	defer obj.Close()
	gotProg, ok := obj.(*ebpf.Program)
	qt.Assert(t, qt.IsTrue(ok), qt.Commentf("%T", obj))
	qt.Assert(t, qt.Equals(gotProg.Type(), p.Type()))
	qt.Assert(t, qt.IsTrue(gotProg.IsPinned()))

	obj, err = Load(linkPath, nil)
	qt.Assert(t, qt.IsNil(err))
	defer obj.Close()
	gotLink, ok := obj.(link.Link)
	qt.Assert(t, qt.IsTrue(ok), qt.Commentf("%T", obj))
	qt.Assert(t, qt.Equals(reflect.TypeOf(gotLink), reflect.TypeOf(l)))
	li, err := l.Info()
	qt.Assert(t, qt.IsNil(err))
	gli, err := gotLink.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(gli.ID, li.ID))

	// The loaded object knows its pin: Unpin removes it.
	qt.Assert(t, qt.IsNil(gotProg.Unpin()))
	_, err = os.Stat(progPath)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
}

func TestLoadOptions(t *testing.T) {
	dir := testutils.TempBPFFS(t)
	path := filepath.Join(dir, "map")
	pinnedMap(t, path)

	obj, err := Load(path, &ebpf.LoadPinOptions{ReadOnly: true})
	qt.Assert(t, qt.IsNil(err))
	defer obj.Close()
	m := obj.(*ebpf.Map)
	var v uint32
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(0), &v)))
	qt.Assert(t, qt.ErrorIs(m.Put(uint32(0), uint32(1)), unix.EPERM))
}

func TestLoadErrors(t *testing.T) {
	dir := testutils.TempBPFFS(t)
	qt.Assert(t, qt.IsNil(os.Mkdir(filepath.Join(dir, "sub"), 0o755)))
	done := testutils.CheckNoOpenFDs(t)
	for _, tc := range []struct {
		path string
		err  string
	}{
		{filepath.Join(dir, "missing"), `load pin .*/missing: no such file or directory`},
		{filepath.Join(dir, "sub"), `load pin .*/sub: .*`},
		{"/proc/self/status", `load pin /proc/self/status: .*`},
	} {
		obj, err := Load(tc.path, nil)
		qt.Assert(t, qt.IsNil(obj))
		qt.Assert(t, qt.ErrorMatches(err, tc.err))
	}
	done()
}

func TestWalkDir(t *testing.T) {
	root := testutils.TempBPFFS(t)
	qt.Assert(t, qt.IsNil(os.MkdirAll(filepath.Join(root, "dir", "sub"), 0o755)))
	qt.Assert(t, qt.IsNil(os.Mkdir(filepath.Join(root, "empty"), 0o755)))
	pinnedMap(t, filepath.Join(root, "a_map"))
	pinnedProgram(t, filepath.Join(root, "dir", "b_prog"))
	pinnedLink(t, filepath.Join(root, "dir", "sub", "c_link"))
	pinnedMap(t, filepath.Join(root, "z_map"))

	type found struct{ Path, Type string }
	kind := func(o any) string {
		switch o.(type) {
		case *ebpf.Map:
			return "map"
		case *ebpf.Program:
			return "program"
		case link.Link:
			return "link"
		}
		return fmt.Sprintf("%T", o)
	}

	done := testutils.CheckNoOpenFDs(t)
	var got []found
	for pin, err := range WalkDir(root, nil) {
		qt.Assert(t, qt.IsNil(err))
		got = append(got, found{pin.Path, kind(pin.Object)})
	}
	qt.Assert(t, qt.DeepEquals(got, []found{
		{filepath.Join(root, "a_map"), "map"},
		{filepath.Join(root, "dir", "b_prog"), "program"},
		{filepath.Join(root, "dir", "sub", "c_link"), "link"},
		{filepath.Join(root, "z_map"), "map"},
	}))
	// Every object was closed after its turn.
	done()

	// Take keeps an object open; breaking out ends the walk and closes
	// the current object.
	done = testutils.CheckNoOpenFDs(t)
	var taken *ebpf.Program
	for pin, err := range WalkDir(filepath.Join(root, "dir"), nil) {
		qt.Assert(t, qt.IsNil(err))
		taken = pin.Object.(*ebpf.Program)
		pin.Take()
		break
	}
	qt.Assert(t, qt.Equals(taken.Type(), ebpf.SocketFilter))
	qt.Assert(t, qt.IsNil(taken.Close()))
	done()

	// iter.Pull works too, and stopping early releases the current pin.
	done = testutils.CheckNoOpenFDs(t)
	next, stop := iter.Pull2(WalkDir(root, nil))
	pin, err, ok := next()
	qt.Assert(t, qt.IsTrue(ok))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(pin.Path, filepath.Join(root, "a_map")))
	stop()
	done()
}

// TestWalkDirErrors: a root outside bpffs ends the walk with an error; a
// pin that can't be loaded is reported and the walk goes on.
func TestWalkDirErrors(t *testing.T) {
	for _, root := range []string{"/", "/nonexistent-bpffs-dir"} {
		var errs []error
		for pin, err := range WalkDir(root, nil) {
			qt.Assert(t, qt.IsNil(pin))
			errs = append(errs, err)
		}
		qt.Assert(t, qt.HasLen(errs, 1), qt.Commentf("root %s", root))
	}
	var errs []error
	for _, err := range WalkDir("/", nil) {
		errs = append(errs, err)
	}
	qt.Assert(t, qt.ErrorMatches(errs[0], `walk pins: / is not on a BPF file system \(bpffs\)`))

	root := testutils.TempBPFFS(t)
	pinnedMap(t, filepath.Join(root, "a_map"))
	// bpffs allows symbolic links; one to nothing can't be loaded.
	qt.Assert(t, qt.IsNil(os.Symlink(filepath.Join(root, "gone"), filepath.Join(root, "b_dangling"))))
	pinnedMap(t, filepath.Join(root, "c_map"))
	var paths []string
	errs = nil
	for pin, err := range WalkDir(root, nil) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		paths = append(paths, filepath.Base(pin.Path))
	}
	qt.Assert(t, qt.DeepEquals(paths, []string{"a_map", "c_map"}))
	qt.Assert(t, qt.HasLen(errs, 1))
	qt.Assert(t, qt.ErrorMatches(errs[0], `load pin .*/b_dangling: no such file or directory`))
}
