package ebpf

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// TestNewMapFaults fails every bpf(2) call NewMapWithOptions makes, one at
// a time, and checks that each failure is reported and closes every
// descriptor opened before it, and that no pin is left behind.
func TestNewMapFaults(t *testing.T) {
	testutils.RequireRoot(t)
	dir := testutils.TempBPFFS(t)
	u32 := &btf.Int{Name: "u32", Size: 4}
	specs := map[string]*MapSpec{
		"contents": {Name: "contents", Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4,
			Contents: []MapKV{{uint32(1), uint32(2)}, {uint32(3), uint32(4)}}},
		"inner map": {Name: "outer", Type: ArrayOfMaps, KeySize: 4, MaxEntries: 2,
			InnerMap: &MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}},
		"btf": {Name: "typed", Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 2, Key: u32, Value: u32,
			Contents: []MapKV{{uint32(1), uint32(2)}}},
		"pinned": {Name: "pinned", Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 2, Pinning: PinByName,
			Contents: []MapKV{{uint32(1), uint32(2)}}},
		"frozen": {Name: ".rodata", Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1,
			Flags: sys.BPF_F_RDONLY_PROG, Contents: []MapKV{{uint32(0), uint32(1)}}},
	}
	for name, spec := range specs {
		t.Run(name, func(t *testing.T) {
			opts := MapOptions{PinPath: dir}
			for n := 1; ; n++ {
				hit := false
				done := testutils.CheckNoOpenFDs(t)
				restore := sys.InjectFaults(func(cmd sys.Cmd, i int) error {
					if i == n {
						hit = true
						return unix.ENOMEM
					}
					return nil
				})
				m, err := NewMapWithOptions(spec, opts)
				restore()
				if !hit {
					qt.Assert(t, qt.IsNil(err))
					qt.Assert(t, qt.IsNil(m.Unpin()))
					m.Close()
					done()
					t.Logf("%d calls", n-1)
					return
				}
				if err == nil {
					// The failed call was a probe whose answer wasn't
					// needed, or a retried one: the map must still be fine.
					qt.Assert(t, qt.IsNil(m.Unpin()))
					m.Close()
				} else {
					qt.Assert(t, qt.ErrorIs(err, unix.ENOMEM), qt.Commentf("call %d", n))
					if spec.Pinning == PinByName {
						_, statErr := os.Stat(filepath.Join(dir, spec.Name))
						qt.Assert(t, qt.IsTrue(errors.Is(statErr, os.ErrNotExist)), qt.Commentf("call %d left a pin: %v", n, statErr))
					}
				}
				done()
				if t.Failed() {
					return
				}
			}
		})
	}
}

// TestMapOpsFaults checks that failing element operations report the errno
// and leave nothing open.
func TestMapOpsFaults(t *testing.T) {
	m := newTestMap(t, &MapSpec{Name: "f", Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	qt.Assert(t, qt.IsNil(m.Put(uint32(1), uint32(1))))
	restore := sys.InjectFaults(func(sys.Cmd, int) error { return unix.EFAULT })
	var v uint32
	errs := []error{
		m.Lookup(uint32(1), &v),
		m.Put(uint32(1), uint32(1)),
		m.Delete(uint32(1)),
		m.NextKey(nil, &v),
		m.LookupAndDelete(uint32(1), &v),
		m.Freeze(),
	}
	it := m.Iterate()
	it.Next(&v, &v)
	errs = append(errs, it.Err())
	_, err := m.Info()
	errs = append(errs, err)
	restore()
	for i, err := range errs {
		qt.Assert(t, qt.ErrorIs(err, unix.EFAULT), qt.Commentf("case %d", i))
	}
}

// TestMapCreateWithoutBTF makes the kernel refuse key/value BTF for the
// map (as kernels did for some map types): the map is created without it.
// A value with a spin lock can't do without and keeps the error.
func TestMapCreateWithoutBTF(t *testing.T) {
	testutils.RequireRoot(t)
	u32 := &btf.Int{Name: "u32", Size: 4}
	refuseFirstCreate := func() (restore func()) {
		refused := false
		return sys.InjectFaults(func(cmd sys.Cmd, _ int) error {
			if cmd == sys.BPF_MAP_CREATE && !refused {
				refused = true
				return unix.EINVAL
			}
			return nil
		})
	}

	// Warm up the probes, so that the first BPF_MAP_CREATE is the map's.
	newTestMap(t, &MapSpec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Key: u32, Value: u32})

	restore := refuseFirstCreate()
	m, err := NewMap(&MapSpec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Key: u32, Value: u32})
	restore()
	qt.Assert(t, qt.IsNil(err))
	defer m.Close()
	info, err := m.Info()
	qt.Assert(t, qt.IsNil(err))
	_, ok := info.BTFID()
	qt.Assert(t, qt.IsFalse(ok))

	lock := &btf.Struct{Name: "bpf_spin_lock", Size: 4, Members: []btf.Member{{Name: "val", Type: u32}}}
	value := &btf.Struct{Name: "v", Size: 4, Members: []btf.Member{{Name: "l", Type: lock}}}
	restore = refuseFirstCreate()
	_, err = NewMap(&MapSpec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Key: u32, Value: value})
	restore()
	qt.Assert(t, qt.ErrorIs(err, unix.EINVAL))
}
