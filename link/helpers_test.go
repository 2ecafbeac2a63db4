package link

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
	"github.com/bpfkit/ebpf/rlimit"
)

func TestMain(m *testing.M) { testutils.TestMain(m, rlimit.RemoveMemlock) }

// object is a test object from ../testdata, loaded as a collection would
// be: maps are created when a program first references them, programs on
// request. Everything is closed when the test ends.
type object struct {
	t    testing.TB
	name string
	spec *ebpf.CollectionSpec
	maps map[string]*ebpf.Map
}

// loadObject reads testdata/<name>-<byte order>.elf for the host. It needs
// no privileges.
func loadObject(t testing.TB, name string) *object {
	t.Helper()
	// Everything done with the object needs bpf(2).
	testutils.RequireRoot(t)
	suffix := "el"
	if internal.NativeEndian == binary.BigEndian {
		suffix = "eb"
	}
	spec, err := ebpf.LoadCollectionSpec(filepath.Join("..", "testdata", name+"-"+suffix+".elf"))
	qt.Assert(t, qt.IsNil(err))
	return &object{t: t, name: name, spec: spec, maps: map[string]*ebpf.Map{}}
}

// set changes a global variable (a .rodata constant or a .data/.bss
// initial value) before its map is created.
func (o *object) set(name string, value any) {
	o.t.Helper()
	v, ok := o.spec.Variables[name]
	qt.Assert(o.t, qt.IsTrue(ok), qt.Commentf("%s has no variable %s", o.name, name))
	qt.Assert(o.t, qt.IsNil(v.Set(value)))
}

// mapByName creates (once) and returns the object's map name.
func (o *object) mapByName(name string) *ebpf.Map {
	o.t.Helper()
	if m := o.maps[name]; m != nil {
		return m
	}
	ms, ok := o.spec.Maps[name]
	qt.Assert(o.t, qt.IsTrue(ok), qt.Commentf("%s has no map %s", o.name, name))
	ms = o.withVariables(name, ms)
	m, err := ebpf.NewMap(ms)
	qt.Assert(o.t, qt.IsNil(err), qt.Commentf("map %s of %s", name, o.name))
	o.t.Cleanup(func() { m.Close() })
	o.maps[name] = m
	return m
}

// withVariables returns the spec of the data section name with the
// values of its variables written into its contents, as loading a
// collection does.
func (o *object) withVariables(name string, ms *ebpf.MapSpec) *ebpf.MapSpec {
	var vars []*ebpf.VariableSpec
	for _, v := range o.spec.Variables {
		if v.SectionName == name && v.Value != nil {
			vars = append(vars, v)
		}
	}
	if len(vars) == 0 {
		return ms
	}
	ms = ms.Copy()
	value := make([]byte, ms.ValueSize)
	if len(ms.Contents) == 1 {
		if b, ok := ms.Contents[0].Value.([]byte); ok {
			copy(value, b)
		}
	}
	for _, v := range vars {
		copy(value[v.Offset:], v.Value)
	}
	ms.Contents = []ebpf.MapKV{{Key: uint32(0), Value: value}}
	return ms
}

// program loads the object's program name, creating the maps it uses.
// modify, if given, changes the spec before loading. A program type or
// attach type the kernel lacks skips the test; so does one the kernel
// forbids (EPERM for root: tracing, LSM, extension programs here).
func (o *object) program(name string, modify ...func(*ebpf.ProgramSpec)) *ebpf.Program {
	o.t.Helper()
	prog, err := o.load(name, modify...)
	testutils.SkipIfNotSupported(o.t, err)
	testutils.SkipIfForbidden(o.t, err, o.spec.Programs[name].Type.String()+" programs")
	qt.Assert(o.t, qt.IsNil(err), qt.Commentf("program %s of %s", name, o.name))
	return prog
}

// load is program without the checks: it returns the loader's error.
func (o *object) load(name string, modify ...func(*ebpf.ProgramSpec)) (*ebpf.Program, error) {
	o.t.Helper()
	testutils.RequireRoot(o.t)
	ps, ok := o.spec.Programs[name]
	qt.Assert(o.t, qt.IsTrue(ok), qt.Commentf("%s has no program %s", o.name, name))
	ps = ps.Copy()
	for _, fn := range modify {
		fn(ps)
	}
	for i := range ps.Instructions {
		ins := &ps.Instructions[i]
		if ref := ins.Reference(); ref != "" && ins.IsLoadFromMap() {
			if _, isMap := o.spec.Maps[ref]; isMap {
				qt.Assert(o.t, qt.IsNil(ins.AssociateMap(o.mapByName(ref))))
			}
		}
	}
	prog, err := ebpf.NewProgram(ps)
	if err != nil {
		return nil, err
	}
	o.t.Cleanup(func() { prog.Close() })
	return prog, nil
}

// counter reads the uint64 global variable name from its data section.
func (o *object) counter(name string) uint64 {
	o.t.Helper()
	v, ok := o.spec.Variables[name]
	qt.Assert(o.t, qt.IsTrue(ok), qt.Commentf("%s has no variable %s", o.name, name))
	qt.Assert(o.t, qt.Equals(v.Size(), 8))
	raw, err := o.mapByName(v.SectionName).LookupBytes(uint32(0))
	qt.Assert(o.t, qt.IsNil(err))
	return internal.NativeEndian.Uint64(raw[v.Offset:])
}

// reset sets the uint64 global variable name to 0.
func (o *object) reset(name string) {
	o.t.Helper()
	v := o.spec.Variables[name]
	m := o.mapByName(v.SectionName)
	raw, err := m.LookupBytes(uint32(0))
	qt.Assert(o.t, qt.IsNil(err))
	clear(raw[v.Offset : v.Offset+8])
	qt.Assert(o.t, qt.IsNil(m.Put(uint32(0), raw)))
}

// counterProgram is a program of type typ (and attach type attach) that
// adds 1 to element 0 of a new array map on every run and returns ret.
// It needs no test object; the map is returned for reading.
func counterProgram(t testing.TB, typ ebpf.ProgramType, attach ebpf.AttachType, ret int32) (*ebpf.Program, *ebpf.Map) {
	t.Helper()
	testutils.RequireRoot(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { m.Close() })
	insns := asm.Instructions{
		// r2 = &key (0 on the stack)
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, ret).WithSymbol("out"),
		asm.Return(),
	}
	// The jump target is the final "r0 = ret": a lookup miss returns ret
	// too.
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "bpfkit_count",
		Type:         typ,
		AttachType:   attach,
		Instructions: insns,
		License:      "GPL",
	})
	testutils.SkipIfNotSupported(t, err)
	testutils.SkipIfForbidden(t, err, typ.String()+" programs")
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { prog.Close() })
	return prog, m
}

// count reads element 0 of a counterProgram's map.
func count(t testing.TB, m *ebpf.Map) uint64 {
	t.Helper()
	var v uint64
	qt.Assert(t, qt.IsNil(m.Lookup(uint32(0), &v)))
	return v
}

// keep closes l when the test ends (Close is idempotent), so that a
// failed assertion does not leak it. A nil l is ignored.
func keep(t testing.TB, l Link) {
	if l != nil {
		t.Cleanup(func() { l.Close() })
	}
}

// mustClose closes l and fails the test on error.
func mustClose(t testing.TB, l Link) {
	t.Helper()
	qt.Assert(t, qt.IsNil(l.Close()))
}

// skipUnlessSupported skips when err says the kernel lacks a feature, and
// fails on any other error.
func skipUnlessSupported(t testing.TB, err error) {
	t.Helper()
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
}

// pinAndReload pins l in a temporary bpffs directory, checks that the pin
// opens as a link of the same kind and ID, then unpins. It returns the
// reloaded link's Info.
func pinAndReload(t *testing.T, l Link) *Info {
	t.Helper()
	dir := testutils.TempBPFFS(t)
	path := filepath.Join(dir, "link")
	qt.Assert(t, qt.IsNil(l.Pin(path)))
	if rl, ok := l.(interface{ IsPinned() bool }); ok {
		qt.Assert(t, qt.IsTrue(rl.IsPinned()))
	}
	before, err := l.Info()
	qt.Assert(t, qt.IsNil(err))

	loaded, err := LoadPinnedLink(path, nil)
	qt.Assert(t, qt.IsNil(err))
	defer loaded.Close()
	qt.Assert(t, qt.Equals(fmt.Sprintf("%T", loaded), fmt.Sprintf("%T", l)))
	after, err := loaded.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(after.ID, before.ID))
	qt.Assert(t, qt.Equals(after.Type, before.Type))

	// Moving the pin keeps it.
	moved := filepath.Join(dir, "moved")
	qt.Assert(t, qt.IsNil(l.Pin(moved)))
	_, err = os.Stat(path)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.IsNil(l.Unpin()))
	_, err = os.Stat(moved)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	return after
}

// kernelAtLeast reports whether the running kernel is version v or newer,
// for checks of details that older kernels don't report.
func kernelAtLeast(t testing.TB, v string) bool {
	t.Helper()
	want, err := internal.NewVersion(v)
	qt.Assert(t, qt.IsNil(err))
	have, err := internal.KernelVersion()
	qt.Assert(t, qt.IsNil(err))
	return !have.Less(want)
}

// isErrno reports whether err wraps errno.
func isErrno(err error, errno unix.Errno) bool {
	return errors.Is(err, errno)
}

// lockThread keeps the test's goroutine on its thread until the test ends.
func lockThread(t testing.TB) {
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
}

// dupFD returns a sys.FD of a duplicate of fd.
func dupFD(t testing.TB, fd int) *sys.FD {
	t.Helper()
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 1)
	qt.Assert(t, qt.IsNil(err))
	sfd, err := sys.NewFD(dup)
	qt.Assert(t, qt.IsNil(err))
	return sfd
}
