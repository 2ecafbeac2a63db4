package link

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
)

func readAll(t testing.TB, it *Iter) string {
	t.Helper()
	rd, err := it.Open()
	qt.Assert(t, qt.IsNil(err))
	defer rd.Close()
	out, err := io.ReadAll(rd)
	qt.Assert(t, qt.IsNil(err))
	// Once at its end, the walk stays there.
	n, err := rd.Read(make([]byte, 16))
	qt.Assert(t, qt.Equals(n, 0))
	qt.Assert(t, qt.ErrorIs(err, io.EOF))
	return string(out)
}

func TestIterTask(t *testing.T) {
	obj := loadObject(t, "link_iter")
	prog := obj.program("dump_task")

	it, err := AttachIter(IterOptions{Program: prog})
	qt.Assert(t, qt.IsNil(err))
	keep(t, it)
	out := readAll(t, it)
	want := fmt.Sprintf("%d %d\n", os.Getpid(), unix.Gettid())
	qt.Assert(t, qt.IsTrue(strings.Contains(out, want)), qt.Commentf("no line %q in the task dump", want))
	// Each Open is a new walk.
	qt.Assert(t, qt.IsTrue(strings.Contains(readAll(t, it), fmt.Sprintf("%d ", os.Getpid()))))

	info, err := it.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, IterType))
	qt.Assert(t, qt.DeepEquals(info.Iter(), &IterInfo{Target: "task"}))
	pinAndReload(t, it)
	mustClose(t, it)
}

func TestIterMap(t *testing.T) {
	obj := loadObject(t, "link_iter")
	prog := obj.program("dump_map")
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	defer m.Close()
	mi, err := m.Info()
	qt.Assert(t, qt.IsNil(err))
	id, _ := mi.ID()

	it, err := AttachIter(IterOptions{Program: prog})
	qt.Assert(t, qt.IsNil(err))
	keep(t, it)
	out := readAll(t, it)
	qt.Assert(t, qt.IsTrue(strings.Contains(out, fmt.Sprintf("map %d\n", id))))
	mustClose(t, it)
}

func TestIterErrors(t *testing.T) {
	obj := loadObject(t, "link_iter")
	prog := obj.program("dump_task")
	xdp := loadObject(t, "link_net").program("xdp_pass")
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	defer m.Close()

	_, err = AttachIter(IterOptions{})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachIter(IterOptions{Program: xdp})
	qt.Assert(t, qt.ErrorMatches(err, `.*want Tracing`))
	m.Close()
	_, err = AttachIter(IterOptions{Program: prog, Map: m})
	qt.Assert(t, qt.ErrorIs(err, unix.EBADF))
}
