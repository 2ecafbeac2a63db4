package ebpf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// loadTestSpec reads testdata/NAME-el.elf.
func loadTestSpec(tb testing.TB, name string) *CollectionSpec {
	tb.Helper()
	spec, err := LoadCollectionSpec(filepath.Join("testdata", name+"-el.elf"))
	qt.Assert(tb, qt.IsNil(err))
	return spec
}

// countLoads returns how many BPF_PROG_LOAD and BPF_MAP_CREATE calls load
// makes.
func countLoads(t *testing.T, load func()) (progs, maps int) {
	t.Helper()
	restore := sys.InjectFaults(func(cmd sys.Cmd, _ int) error {
		switch cmd {
		case sys.BPF_PROG_LOAD:
			progs++
		case sys.BPF_MAP_CREATE:
			maps++
		}
		return nil
	})
	defer restore()
	load()
	return progs, maps
}

func TestNewCollectionNil(t *testing.T) {
	_, err := NewCollection(nil)
	qt.Assert(t, qt.IsNotNil(err))
}

func TestLoadCollection(t *testing.T) {
	testutils.RequireRoot(t)
	coll, err := LoadCollection("testdata/bpfobj_default-el.elf")
	qt.Assert(t, qt.IsNil(err))
	defer coll.Close()
	qt.Assert(t, qt.Equals(testRun(t, coll, "xdp_count", collPacket), 2))

	_, err = LoadCollection("testdata/does-not-exist.elf")
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
}

func TestCollectionAssignAndDetach(t *testing.T) {
	testutils.RequireRoot(t)
	coll, err := NewCollection(loadTestSpec(t, "bpfobj_default"))
	qt.Assert(t, qt.IsNil(err))
	defer coll.Close()

	var bad struct {
		Count   *Program `ebpf:"xdp_count"`
		Missing *Map     `ebpf:"no_such_map"`
	}
	qt.Assert(t, qt.ErrorMatches(coll.Assign(&bad), `field Missing: missing map "no_such_map"`))
	qt.Assert(t, qt.IsNil(bad.Count))
	qt.Assert(t, qt.IsNotNil(coll.Programs["xdp_count"]), qt.Commentf("a failed Assign keeps everything"))

	var objs struct {
		Count   *Program  `ebpf:"xdp_count"`
		Packets *Map      `ebpf:"packets"`
		Runs    *Variable `ebpf:"runs"`
	}
	qt.Assert(t, qt.IsNil(coll.Assign(&objs)))
	qt.Assert(t, qt.IsNil(coll.Programs["xdp_count"]))
	qt.Assert(t, qt.IsNil(coll.Maps["packets"]))
	qt.Assert(t, qt.IsNil(coll.Variables["runs"]))
	defer objs.Count.Close()
	defer objs.Packets.Close()

	sock := coll.DetachProgram("socket_count")
	qt.Assert(t, qt.IsNotNil(sock))
	defer sock.Close()
	qt.Assert(t, qt.IsNil(coll.DetachProgram("socket_count")))
	bss := coll.DetachMap(".bss")
	qt.Assert(t, qt.IsNotNil(bss))
	defer bss.Close()
	qt.Assert(t, qt.IsNil(coll.DetachMap("no_such_map")))

	// What left the collection outlives it.
	coll.Close()
	ret, _, err := objs.Count.Test(collPacket)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(ret, 2))
	var n uint64
	qt.Assert(t, qt.IsNil(objs.Packets.Lookup(uint32(0), &n)))
	qt.Assert(t, qt.Equals(n, 1))
	var runs uint32
	qt.Assert(t, qt.IsNil(objs.Runs.Get(&runs)))
	qt.Assert(t, qt.Equals(runs, 101))
	ret, _, err = sock.Test(collPacket)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(ret, 50))
}

func TestLoadAndAssignSelective(t *testing.T) {
	testutils.RequireRoot(t)
	spec := loadTestSpec(t, "map_values")
	// Probes are memoized: run them before counting.
	coll, err := NewCollection(spec)
	qt.Assert(t, qt.IsNil(err))
	coll.Close()

	t.Run("program with inner maps", func(t *testing.T) {
		var objs struct {
			ReadInner *Program `ebpf:"read_inner"`
			InnerB    *Map     `ebpf:"inner_b"`
		}
		defer testutils.CheckNoOpenFDs(t)()
		progs, _ := countLoads(t, func() {
			qt.Assert(t, qt.IsNil(spec.LoadAndAssign(&objs, nil)))
		})
		defer objs.ReadInner.Close()
		defer objs.InnerB.Close()
		// read_inner alone, with outer_array and outer_hash and the three
		// inner maps they hold (jump_table is not needed).
		qt.Check(t, qt.Equals(progs, 1))
		qt.Assert(t, qt.Equals(runProgram(t, objs.ReadInner), 0))
		var v uint32
		qt.Assert(t, qt.IsNil(objs.InnerB.Lookup(uint32(0), &v)))
		qt.Assert(t, qt.Equals(v, 5))
	})

	t.Run("program array loads the programs it holds", func(t *testing.T) {
		var objs struct {
			Entry     *Program `ebpf:"entry"`
			JumpTable *Map     `ebpf:"jump_table"`
		}
		defer testutils.CheckNoOpenFDs(t)()
		progs, maps := countLoads(t, func() {
			qt.Assert(t, qt.IsNil(spec.LoadAndAssign(&objs, nil)))
		})
		defer objs.Entry.Close()
		defer objs.JumpTable.Close()
		qt.Check(t, qt.Equals(progs, 3)) // entry, tail_1, tail_2
		qt.Check(t, qt.Equals(maps, 1))
		qt.Assert(t, qt.Equals(runProgram(t, objs.Entry), 42))
	})

	t.Run("program array must be assigned", func(t *testing.T) {
		var objs struct {
			Entry *Program `ebpf:"entry"`
		}
		defer testutils.CheckNoOpenFDs(t)()
		err := spec.LoadAndAssign(&objs, nil)
		qt.Assert(t, qt.ErrorMatches(err, `map "jump_table": a program array with contents must be assigned.*`))
		qt.Assert(t, qt.IsNil(objs.Entry))
	})

	t.Run("variable loads its data section only", func(t *testing.T) {
		spec := loadTestSpec(t, "bpfobj_default")
		var objs struct {
			Runs *Variable `ebpf:"runs"`
		}
		defer testutils.CheckNoOpenFDs(t)()
		progs, maps := countLoads(t, func() {
			qt.Assert(t, qt.IsNil(spec.LoadAndAssign(&objs, nil)))
		})
		qt.Check(t, qt.Equals(progs, 0))
		qt.Check(t, qt.Equals(maps, 1))
		var runs uint32
		qt.Assert(t, qt.IsNil(objs.Runs.Get(&runs)))
		qt.Assert(t, qt.Equals(runs, 100))
	})
}

func TestLoadAndAssignErrors(t *testing.T) {
	testutils.RequireRoot(t)
	spec := loadTestSpec(t, "bpfobj_default")

	type wrongType struct {
		Packets *MapSpec `ebpf:"packets"`
	}
	type twice struct {
		A *Map `ebpf:"packets"`
		B *Map `ebpf:"packets"`
	}
	type embedded struct {
		Count *Program `ebpf:"xdp_count"`
	}
	type missingVar struct {
		embedded
		Nope *Variable `ebpf:"nope"`
	}
	type badLoad struct {
		Count *Program `ebpf:"xdp_count"`
		Bad   *Program `ebpf:"bad"`
	}
	for _, test := range []struct {
		name string
		to   any
		want string
	}{
		{"missing program", &struct {
			Count *Program `ebpf:"xdp_count"`
			Nope  *Program `ebpf:"nope"`
		}{}, `field Nope: missing program "nope"`},
		{"missing map", &struct {
			Nope *Map `ebpf:"nope"`
		}{}, `field Nope: missing map "nope"`},
		{"missing variable in embedded struct's sibling", &missingVar{}, `field Nope: missing variable "nope"`},
		{"spec type", &wrongType{}, `field Packets: unsupported type \*ebpf.MapSpec`},
		{"plain type", &struct {
			N int `ebpf:"packets"`
		}{}, `field N: unsupported type int`},
		{"assigned twice", &twice{}, `field B: "packets" is already assigned to field A`},
		{"not a pointer", struct{}{}, `.* is not a pointer to a struct`},
		{"load fails", &badLoad{}, `field Bad: program "bad": .*`},
	} {
		t.Run(test.name, func(t *testing.T) {
			spec := spec.Copy()
			spec.Programs["bad"] = &ProgramSpec{Name: "bad", Type: SocketFilter, License: "MIT",
				Instructions: asm.Instructions{asm.Return()}} // r0 is never set
			defer testutils.CheckNoOpenFDs(t)()
			err := spec.LoadAndAssign(test.to, nil)
			qt.Assert(t, qt.ErrorMatches(err, test.want))
			if test.name == "load fails" {
				var ve *VerifierError
				qt.Assert(t, qt.ErrorAs(err, &ve))
			}
			// Nothing was assigned.
			if to, ok := test.to.(*badLoad); ok {
				qt.Assert(t, qt.IsNil(to.Count))
			}
			if to, ok := test.to.(*missingVar); ok {
				qt.Assert(t, qt.IsNil(to.Count))
			}
		})
	}
}

func TestCollectionMapReplacements(t *testing.T) {
	testutils.RequireRoot(t)
	spec := loadTestSpec(t, "bpfobj_default")
	packets, err := NewMap(spec.Maps["packets"])
	qt.Assert(t, qt.IsNil(err))
	defer packets.Close()

	coll, err := NewCollectionWithOptions(spec, CollectionOptions{
		MapReplacements: map[string]*Map{"packets": packets},
	})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(testRun(t, coll, "xdp_count", collPacket), 2))
	coll.Close()
	// The collection used (and closed) a clone; ours still works and saw
	// the program's update.
	var n uint64
	qt.Assert(t, qt.IsNil(packets.Lookup(uint32(0), &n)))
	qt.Assert(t, qt.Equals(n, 1))

	other, err := NewMap(&MapSpec{Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	defer other.Close()
	_, err = NewCollectionWithOptions(spec, CollectionOptions{
		MapReplacements: map[string]*Map{"packets": other},
	})
	qt.Assert(t, qt.ErrorIs(err, ErrMapIncompatible))
	qt.Assert(t, qt.ErrorMatches(err, `map "packets": replacement: .*`))

	_, err = NewCollectionWithOptions(spec, CollectionOptions{
		MapReplacements: map[string]*Map{"nope": packets},
	})
	qt.Assert(t, qt.ErrorMatches(err, `replacement map "nope": the spec has no map of that name`))
}

func TestCollectionPinning(t *testing.T) {
	testutils.RequireRoot(t)
	spec := loadTestSpec(t, "maps_btf")
	opts := CollectionOptions{Maps: MapOptions{PinPath: testutils.TempBPFFS(t)}}

	var objs struct {
		Pinned *Map `ebpf:"pinned"`
	}
	qt.Assert(t, qt.IsNil(spec.LoadAndAssign(&objs, &opts)))
	defer objs.Pinned.Close()
	qt.Assert(t, qt.IsTrue(objs.Pinned.IsPinned()))
	qt.Assert(t, qt.IsNil(objs.Pinned.Put(uint32(1), uint32(2))))

	// A second load uses the pinned map, contents and all.
	coll, err := NewCollectionWithOptions(spec, opts)
	qt.Assert(t, qt.IsNil(err))
	defer coll.Close()
	var v uint32
	qt.Assert(t, qt.IsNil(coll.Maps["pinned"].Lookup(uint32(1), &v)))
	qt.Assert(t, qt.Equals(v, 2))

	_, err = os.Stat(filepath.Join(opts.Maps.PinPath, "pinned"))
	qt.Assert(t, qt.IsNil(err))

	_, err = NewCollection(spec)
	qt.Assert(t, qt.ErrorMatches(err, `map "pinned": pin by name: MapOptions.PinPath is empty`))
}

func TestCollectionSkipsUnspecifiedPrograms(t *testing.T) {
	testutils.RequireRoot(t)
	spec := &CollectionSpec{Programs: map[string]*ProgramSpec{
		"ok":      {Name: "ok", Type: SocketFilter, License: "MIT", Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 3), asm.Return()}},
		"unknown": {Name: "unknown", Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 3), asm.Return()}},
	}}
	coll, err := NewCollection(spec)
	qt.Assert(t, qt.IsNil(err))
	defer coll.Close()
	qt.Assert(t, qt.HasLen(coll.Programs, 1))

	var objs struct {
		P *Program `ebpf:"unknown"`
	}
	qt.Assert(t, qt.ErrorMatches(spec.LoadAndAssign(&objs, nil), `field P: program "unknown": program type is unspecified`))
}

func TestCollectionSharedCache(t *testing.T) {
	testutils.RequireRoot(t)
	spec := loadTestSpec(t, "core")
	cache := btf.NewCache()
	for range 2 {
		coll, err := NewCollectionWithOptions(spec, CollectionOptions{Cache: cache})
		testutils.SkipIfNotSupported(t, err)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(testRun(t, coll, "core_relos", collPacket), 0))
		coll.Close()
	}
}

// TestCollectionErrors loads the err_* objects: each failure names the
// program, map or extern, and a verifier rejection points at the source
// line.
// TestMapsOfMapsCreateOnce checks that every map of map_values is created
// with one BPF_MAP_CREATE (maps of maps one more, for the inner map
// template): the loader doesn't send key/value BTF that the kernel
// refuses for a map type, or a key type without a value type, only to
// retry without.
func TestMapsOfMapsCreateOnce(t *testing.T) {
	testutils.RequireRoot(t)
	spec := loadTestSpec(t, "map_values")
	// Run the feature probes before counting.
	coll, err := NewCollection(spec)
	qt.Assert(t, qt.IsNil(err))
	coll.Close()

	want := 0
	for _, ms := range spec.Maps {
		want++
		if ms.InnerMap != nil {
			want++
		}
	}
	_, creates := countLoads(t, func() { coll, err = NewCollection(spec) })
	qt.Assert(t, qt.IsNil(err))
	defer coll.Close()
	qt.Assert(t, qt.Equals(creates, want))
	for _, name := range []string{"outer_array", "outer_hash", "outer_empty"} {
		_, err := coll.Maps[name].Handle()
		qt.Assert(t, qt.ErrorIs(err, ErrNotSupported), qt.Commentf("%s has BTF", name))
	}

	// Types that refuse key/value BTF get none, even when the spec has it.
	u32 := &btf.Int{Name: "u32", Size: 4}
	for _, ms := range []*MapSpec{
		{Type: ArrayOfMaps, KeySize: 4, MaxEntries: 1, Key: u32, Value: u32, InnerMap: innerSpecForTest()},
		{Type: Queue, ValueSize: 4, MaxEntries: 1, Value: u32},
		{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Key: u32},
	} {
		var m *Map
		_, creates := countLoads(t, func() { m, err = NewMap(ms) })
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", ms.Type))
		m.Close()
		want := 1
		if ms.InnerMap != nil {
			want++
		}
		qt.Assert(t, qt.Equals(creates, want), qt.Commentf("%s", ms.Type))
	}
}

func TestCollectionErrors(t *testing.T) {
	testutils.RequireRoot(t)
	for _, test := range []struct {
		object, program string
		want            string
		is              error
	}{
		{"err_verifier", "oob_read", `program "oob_read": load program: permission denied: invalid access to map value, value_size=8 off=24 size=8: .* \(err_verifier.c:32\)`, unix.EACCES},
		{"err_core_missing", "read_missing", `program "read_missing": instruction 1: CO-RE relocation .* task_struct___missing.bpfkit_no_such_field .*`, nil},
		{"err_extern", "call_missing", `program "call_missing": .*kfunc "bpfkit_no_such_kfunc".*`, ErrNotSupported},
		{"err_extern", "read_missing_kconfig", `program "read_missing_kconfig": kconfig extern "CONFIG_BPFKIT_NO_SUCH_OPTION": not set in the kernel's configuration: .*`, ErrNotSupported},
	} {
		t.Run(test.object+"/"+test.program, func(t *testing.T) {
			spec := loadTestSpec(t, test.object)
			check := func(err error) {
				t.Helper()
				qt.Assert(t, qt.ErrorMatches(err, test.want))
				if test.is != nil {
					qt.Assert(t, qt.ErrorIs(err, test.is))
				}
			}

			// The program alone.
			alone := spec.Copy()
			for name := range alone.Programs {
				if name != test.program {
					delete(alone.Programs, name)
				}
			}
			done := testutils.CheckNoOpenFDs(t)
			_, err := NewCollection(alone)
			done()
			check(err)

			// The whole object fails the same way every time, for the
			// first broken program in name order.
			if test.object == "err_extern" && test.program != "call_missing" {
				return
			}
			var first string
			for i := range 5 {
				_, err := NewCollection(spec)
				check(err)
				if i == 0 {
					first = err.Error()
				}
				qt.Assert(t, qt.Equals(err.Error(), first))
			}
			if test.object == "err_verifier" {
				var ve *VerifierError
				qt.Assert(t, qt.ErrorAs(err, &ve))
				qt.Assert(t, qt.Equals(ve.Source, "err_verifier.c:32"))
			}
		})
	}

	for _, object := range []string{"err_extern_plain", "err_maps", "err_static_reloc"} {
		t.Run(object, func(t *testing.T) {
			_, err := LoadCollection(filepath.Join("testdata", object+"-el.elf"))
			qt.Assert(t, qt.IsNotNil(err))
			qt.Assert(t, qt.IsTrue(strings.Contains(err.Error(), object)), qt.Commentf("%v", err))
		})
	}
}

func TestCollectionDeterministicErrors(t *testing.T) {
	testutils.RequireRoot(t)
	// Several maps and programs fail; the error is always about the first
	// map in name order, since maps are created first.
	spec := &CollectionSpec{
		Maps:     map[string]*MapSpec{},
		Programs: map[string]*ProgramSpec{},
	}
	for _, name := range []string{"m_c", "m_a", "m_b", "m_d"} {
		spec.Maps[name] = &MapSpec{Name: name, Type: Hash, KeySize: 4, ValueSize: 4} // MaxEntries 0
	}
	for _, name := range []string{"p_b", "p_a"} {
		spec.Programs[name] = &ProgramSpec{Name: name, Type: SocketFilter, License: "MIT", Instructions: asm.Instructions{asm.Return()}}
	}
	for range 10 {
		_, err := NewCollection(spec)
		qt.Assert(t, qt.ErrorMatches(err, `map "m_a": create: invalid argument \(MaxEntries is zero\)`))
	}
	spec.Maps = nil
	for range 10 {
		_, err := NewCollection(spec)
		qt.Assert(t, qt.ErrorMatches(err, `program "p_a": .*`))
	}
}

// runProgram runs p once on collPacket.
func runProgram(t *testing.T, p *Program) uint32 {
	t.Helper()
	ret, _, err := p.Test(collPacket)
	qt.Assert(t, qt.IsNil(err))
	return ret
}

// BenchmarkNewCollection loads an object whose program needs CO-RE
// relocations against the kernel's BTF (every relocation kind): the
// kernel's BTF is decoded once per load and shared by the programs.
func BenchmarkNewCollection(b *testing.B) {
	testutils.RequireRoot(b)
	spec := loadTestSpec(b, "core")
	b.ReportAllocs()
	for b.Loop() {
		coll, err := NewCollection(spec)
		if err != nil {
			b.Fatal(err)
		}
		coll.Close()
	}
}
