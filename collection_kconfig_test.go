package ebpf

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// fakeKconfig answers like a kernel would, from fields.
type fakeKconfig struct {
	values    map[string]string
	configErr error
	asked     map[string]struct{}
	cookie    bool
}

func (f *fakeKconfig) config(filter map[string]struct{}) (map[string]string, error) {
	f.asked = filter
	if f.configErr != nil {
		return nil, f.configErr
	}
	out := make(map[string]string)
	for name := range filter {
		if v, ok := f.values[name]; ok {
			out[name] = v
		}
	}
	return out, nil
}

func (f *fakeKconfig) version() (uint32, error)      { return 0x0006122c, nil }
func (f *fakeKconfig) syscallWrapper() (bool, error) { return true, nil }
func (f *fakeKconfig) bpfCookie() (bool, error)      { return f.cookie, nil }

// kconfigDatasec lays out vars one after the other, 8-byte aligned.
func kconfigDatasec(vars ...*btf.Var) *btf.Datasec {
	ds := &btf.Datasec{Name: ".kconfig"}
	off := uint32(0)
	for _, v := range vars {
		size, err := btf.Sizeof(v.Type)
		if err != nil {
			panic(err)
		}
		ds.Vars = append(ds.Vars, btf.VarSecinfo{Type: v, Offset: off, Size: uint32(size)})
		off += (uint32(size) + 7) &^ 7
	}
	ds.Size = off
	return ds
}

func TestKconfigValues(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	s32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u64 := &btf.Int{Name: "u64", Size: 8}
	boolean := &btf.Int{Name: "bool", Size: 1, Encoding: btf.Bool}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}
	tristate := &btf.Enum{Name: "libbpf_tristate", Size: 4, Values: []btf.EnumValue{{Name: "TRI_NO", Value: 0}, {Name: "TRI_YES", Value: 1}, {Name: "TRI_MODULE", Value: 2}}}
	str := &btf.Array{Index: u32, Type: char, Nelems: 8}

	ds := kconfigDatasec(
		&btf.Var{Name: "LINUX_KERNEL_VERSION", Type: u32},
		&btf.Var{Name: "LINUX_HAS_SYSCALL_WRAPPER", Type: boolean},
		&btf.Var{Name: "LINUX_HAS_BPF_COOKIE", Type: boolean},
		&btf.Var{Name: "LINUX_NO_SUCH_THING", Type: s32},
		&btf.Var{Name: "CONFIG_HZ", Type: &btf.Typedef{Name: "hz_t", Type: s32}},
		&btf.Var{Name: "CONFIG_NEG", Type: s32},
		&btf.Var{Name: "CONFIG_BPF", Type: boolean},
		&btf.Var{Name: "CONFIG_MOD", Type: tristate},
		&btf.Var{Name: "CONFIG_NAME", Type: &btf.Const{Type: str}},
		&btf.Var{Name: "CONFIG_CHAR", Type: &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}},
		&btf.Var{Name: "CONFIG_MISSING", Type: u64},
		&btf.Var{Name: "NOT_A_CONFIG", Type: s32},
	)
	src := &fakeKconfig{values: map[string]string{
		"CONFIG_HZ": "250", "CONFIG_NEG": "-3", "CONFIG_BPF": "y", "CONFIG_MOD": "m",
		"CONFIG_NAME": `"abc"`, "CONFIG_CHAR": "y", "CONFIG_UNASKED": "1",
	}}
	data, missing, err := kconfigValues(ds, src)
	qt.Assert(t, qt.IsNil(err))

	bo := internal.NativeEndian
	want := make([]byte, ds.Size)
	bo.PutUint32(want[0:], 0x0006122c)
	want[8] = 1  // syscall wrapper
	want[16] = 0 // no cookie
	bo.PutUint32(want[32:], 250)
	bo.PutUint32(want[40:], uint32(0xfffffffd))
	want[48] = 1
	bo.PutUint32(want[56:], 2)
	copy(want[64:], "abc")
	want[72] = 'y'
	qt.Assert(t, qt.DeepEquals(data, want))

	qt.Assert(t, qt.DeepEquals(sortedKeys(missing), []string{"CONFIG_MISSING", "LINUX_NO_SUCH_THING", "NOT_A_CONFIG"}))
	qt.Assert(t, qt.ErrorIs(missing["CONFIG_MISSING"], ErrNotSupported))
	qt.Assert(t, qt.ErrorIs(missing["LINUX_NO_SUCH_THING"], ErrNotSupported))
	// Only the CONFIG_ names of the object are looked up.
	qt.Assert(t, qt.DeepEquals(sortedKeys(src.asked), []string{"CONFIG_BPF", "CONFIG_CHAR", "CONFIG_HZ", "CONFIG_MISSING", "CONFIG_MOD", "CONFIG_NAME", "CONFIG_NEG"}))

	t.Run("no configuration", func(t *testing.T) {
		src := &fakeKconfig{configErr: fmt.Errorf("find: %w", os.ErrNotExist)}
		data, missing, err := kconfigValues(ds, src)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(internal.NativeEndian.Uint32(data), 0x0006122c))
		// The seven CONFIG_ externs, the unknown LINUX_ one and the
		// other name.
		qt.Assert(t, qt.HasLen(missing, 9))
		qt.Assert(t, qt.ErrorIs(missing["CONFIG_HZ"], os.ErrNotExist))
	})

	t.Run("unreadable configuration", func(t *testing.T) {
		src := &fakeKconfig{configErr: errors.New("line too long")}
		_, _, err := kconfigValues(ds, src)
		qt.Assert(t, qt.ErrorMatches(err, `kernel configuration: line too long`))
	})

	for _, test := range []struct {
		name  string
		v     *btf.Var
		value string
		want  string
	}{
		{"bool takes no m", &btf.Var{Name: "CONFIG_X", Type: boolean}, "m", `extern "CONFIG_X": .*`},
		{"int takes no string", &btf.Var{Name: "CONFIG_X", Type: s32}, `"s"`, `extern "CONFIG_X": .*`},
		{"number too large", &btf.Var{Name: "CONFIG_X", Type: &btf.Int{Size: 1}}, "300", `extern "CONFIG_X": .*`},
		{"string too long", &btf.Var{Name: "CONFIG_X", Type: &btf.Array{Index: u32, Type: char, Nelems: 2}}, `"abc"`, `extern "CONFIG_X": .*`},
		{"struct", &btf.Var{Name: "CONFIG_X", Type: &btf.Struct{Name: "s", Size: 4}}, "1", `extern "CONFIG_X": type .* is not a kconfig type`},
	} {
		t.Run(test.name, func(t *testing.T) {
			src := &fakeKconfig{values: map[string]string{"CONFIG_X": test.value}}
			_, _, err := kconfigValues(kconfigDatasec(test.v), src)
			qt.Assert(t, qt.ErrorMatches(err, test.want))
		})
	}
}

// TestKconfigSharedMap loads two programs reading .kconfig externs: the
// collection fills one .kconfig map for both.
func TestKconfigSharedMap(t *testing.T) {
	testutils.RequireRoot(t)
	spec := loadTestSpec(t, "kconfig")
	second := spec.Programs["read_kconfig"].Copy()
	second.Name = "read_kconfig2"
	spec.Programs[second.Name] = second

	coll, err := NewCollection(spec)
	qt.Assert(t, qt.IsNil(err))
	coll.Close()

	var coll2 *Collection
	_, maps := countLoads(t, func() {
		coll2, err = NewCollection(spec)
	})
	qt.Assert(t, qt.IsNil(err))
	defer coll2.Close()
	qt.Assert(t, qt.Equals(maps, len(spec.Maps)+1))
	qt.Assert(t, qt.Equals(testRun(t, coll2, "read_kconfig", collPacket), 0))
	qt.Assert(t, qt.Equals(testRun(t, coll2, "read_kconfig2", collPacket), 0))
	qt.Assert(t, qt.Equals(variableUint(t, coll2, "missing"), 0))
	// .kconfig is the programs' business: the collection doesn't list it.
	qt.Assert(t, qt.IsNil(coll2.Maps[".kconfig"]))
}

// TestKconfigProgramLikeCollection loads the .kconfig objects once as
// programs on their own (NewProgram) and once as collections: both read
// the same values and fail with the same errors, because both link
// through linkKconfig.
func TestKconfigProgramLikeCollection(t *testing.T) {
	t.Run("values", func(t *testing.T) {
		obj := openTestObject(t, "kconfig")
		prog := obj.load("read_kconfig")
		_, _, err := prog.Test(packet)
		qt.Assert(t, qt.IsNil(err))

		coll, err := NewCollection(obj.spec)
		qt.Assert(t, qt.IsNil(err))
		defer coll.Close()
		qt.Assert(t, qt.Equals(testRun(t, coll, "read_kconfig", collPacket), 0))

		// Every variable read_kconfig wrote, whole .bss sections compared.
		sections := make(map[string]bool)
		for _, vs := range obj.spec.Variables {
			sections[vs.SectionName] = true
		}
		for _, name := range sortedKeys(sections) {
			alone := make([]byte, obj.mapByName(name).ValueSize())
			qt.Assert(t, qt.IsNil(obj.mapByName(name).Lookup(uint32(0), alone)))
			inColl, err := coll.Maps[name].LookupBytes(uint32(0))
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.DeepEquals(inColl, alone), qt.Commentf("section %s", name))
		}
	})

	t.Run("missing strong extern", func(t *testing.T) {
		obj := openTestObject(t, "err_extern")
		done := testutils.CheckNoOpenFDs(t)
		_, progErr := NewProgram(obj.programSpec("read_missing_kconfig"))
		qt.Assert(t, qt.IsNotNil(progErr))

		spec := obj.spec.Copy()
		delete(spec.Programs, "call_missing")
		_, collErr := NewCollection(spec)
		done()
		qt.Assert(t, qt.IsNotNil(collErr))

		qt.Assert(t, qt.Equals(progErr.Error(), collErr.Error()))
		qt.Assert(t, qt.ErrorMatches(progErr, `program "read_missing_kconfig": kconfig extern "CONFIG_BPFKIT_NO_SUCH_OPTION": not set in the kernel's configuration: .*`))
		qt.Assert(t, qt.ErrorIs(progErr, ErrNotSupported))
	})

	t.Run("two maps", func(t *testing.T) {
		obj := openTestObject(t, "kconfig")
		ps := obj.programSpec("read_kconfig")
		// Point the last extern read at a copy of the .kconfig map spec.
		other := obj.spec.Maps[".kconfig"].Copy()
		last := -1
		for i := range ps.Instructions {
			if ps.Instructions[i].Metadata.Get(kconfigMetaKey{}) != nil {
				last = i
			}
		}
		qt.Assert(t, qt.Not(qt.Equals(last, -1)))
		meta := *ps.Instructions[last].Metadata.Get(kconfigMetaKey{}).(*kconfigMeta)
		meta.Map = other
		ps.Instructions[last].Metadata.Set(kconfigMetaKey{}, &meta)

		done := testutils.CheckNoOpenFDs(t)
		_, err := NewProgram(ps)
		done()
		qt.Assert(t, qt.ErrorMatches(err, `program "read_kconfig": instructions read from more than one .kconfig map`))
	})
}
