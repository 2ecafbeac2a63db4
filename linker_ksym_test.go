package ebpf

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/kallsyms"

	"github.com/bpfkit/ebpf/internal/testutils"
)

// ksymsSpec returns testdata/ksyms-el.elf with n programs: use_ksyms and
// n-1 copies of it (use_ksyms_2, ...), all loading the typeless ksyms
// __start_BTF and __stop_BTF.
func ksymsSpec(tb testing.TB, n int) *CollectionSpec {
	tb.Helper()
	spec := loadTestSpec(tb, "ksyms")
	for i := 2; i <= n; i++ {
		cpy := spec.Programs["use_ksyms"].Copy()
		cpy.Name = fmt.Sprintf("use_ksyms_%d", i)
		spec.Programs[cpy.Name] = cpy
	}
	return spec
}

// BenchmarkNewCollectionKsyms loads collections of 1, 2 and 4 programs
// using typeless ksyms, weak kfuncs and weak typed ksyms the kernel lacks.
// The kernel BTF cache is shared between iterations, so what grows with
// the programs is verification and kallsyms reads (some 25-30 ms each,
// reported as kallsyms-passes/op).
func BenchmarkNewCollectionKsyms(b *testing.B) {
	testutils.RequireRoot(b)
	for _, n := range []int{1, 2, 4} {
		spec := ksymsSpec(b, n)
		opts := CollectionOptions{Cache: btf.NewCache()}
		b.Run(fmt.Sprintf("programs=%d", n), func(b *testing.B) {
			passes := countKallsyms(b)
			b.ReportAllocs()
			for b.Loop() {
				coll, err := NewCollectionWithOptions(spec, opts)
				testutils.SkipIfNotSupported(b, err)
				qt.Assert(b, qt.IsNil(err))
				coll.Close()
			}
			b.ReportMetric(float64(passes.addrPasses+passes.modulePasses)/float64(b.N), "kallsyms-passes/op")
		})
	}
}

// countKallsyms counts the passes over /proc/kallsyms the linker makes
// while the test runs, by kind, and records the names each asked about.
type kallsymsCounter struct {
	addrPasses, modulePasses int
	addrNames, moduleNames   [][]string
}

func countKallsyms(t testing.TB) *kallsymsCounter {
	t.Helper()
	c := &kallsymsCounter{}
	addrs, modules := kallsymsAddresses, kallsymsModules
	t.Cleanup(func() { kallsymsAddresses, kallsymsModules = addrs, modules })
	kallsymsAddresses = func(names map[string]uint64) error {
		c.addrPasses++
		c.addrNames = append(c.addrNames, sortedKeys(names))
		return addrs(names)
	}
	kallsymsModules = func(names map[string]string) error {
		c.modulePasses++
		c.moduleNames = append(c.moduleNames, sortedKeys(names))
		return modules(names)
	}
	return c
}

// TestKsymsCollectionOnePass loads testdata/ksyms-el.elf with a second
// program using the same ksyms: the collection reads kallsyms once for
// the addresses of the typeless ksyms of both and once for the modules of
// the weak kfunc and variable the kernel lacks, where loading the programs
// one by one reads it twice per program.
func TestKsymsCollectionOnePass(t *testing.T) {
	testutils.RequireRoot(t)
	spec := ksymsSpec(t, 2)
	want := map[string]uint64{"__start_BTF": 0, "__stop_BTF": 0}
	err := kallsymsAddresses(want)
	if errors.Is(err, ErrRestrictedKernel) {
		t.Skip("kernel hides symbol addresses (kernel.kptr_restrict):", err)
	}
	qt.Assert(t, qt.IsNil(err))

	// Program by program, each looks up its own names.
	alone := countKallsyms(t)
	obj := openTestObject(t, "ksyms")
	for _, name := range []string{"use_ksyms", "use_ksyms"} {
		prog, err := NewProgram(obj.programSpec(name))
		testutils.SkipIfNotSupported(t, err)
		qt.Assert(t, qt.IsNil(err))
		prog.Close()
	}
	qt.Check(t, qt.DeepEquals(alone.addrNames, [][]string{{"__start_BTF", "__stop_BTF"}, {"__start_BTF", "__stop_BTF"}}))
	qt.Check(t, qt.Equals(alone.modulePasses, 2))

	counted := countKallsyms(t)
	coll, err := NewCollectionWithOptions(spec, CollectionOptions{Cache: btf.NewCache()})
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	defer coll.Close()
	qt.Check(t, qt.DeepEquals(counted.addrNames, [][]string{{"__start_BTF", "__stop_BTF"}}))
	// The first miss asks about every kfunc and typed ksym of both
	// programs; the found ones are answered from then on by the cache
	// of package kallsyms.
	qt.Check(t, qt.Equals(counted.modulePasses, 1))
	qt.Check(t, qt.DeepEquals(counted.moduleNames, [][]string{{
		"bpf_bpfkit_missing_kfunc", "bpf_task_acquire", "bpf_task_from_pid", "bpf_task_release", "bpfkit_missing_var",
	}}))

	for _, name := range []string{"use_ksyms", "use_ksyms_2"} {
		qt.Assert(t, qt.Equals(testRun(t, coll, name, collPacket), 0))
	}
	qt.Check(t, qt.Equals(variableUint(t, coll, "btf_start"), want["__start_BTF"]))
	qt.Check(t, qt.Equals(variableUint(t, coll, "btf_end"), want["__stop_BTF"]))
	qt.Check(t, qt.Equals(variableUint(t, coll, "missing_var"), 0))
	qt.Check(t, qt.Equals(variableUint(t, coll, "task_pid"), 2))
}

// fakeKallsyms answers for package kallsyms from maps.
type fakeKallsyms struct {
	addrs      map[string]uint64
	modules    map[string]string
	restricted bool
	ambiguous  string
	passes     int
}

func (f *fakeKallsyms) install(t *testing.T) {
	t.Helper()
	addrs, modules := kallsymsAddresses, kallsymsModules
	t.Cleanup(func() { kallsymsAddresses, kallsymsModules = addrs, modules })
	kallsymsAddresses = func(names map[string]uint64) error {
		f.passes++
		if _, ok := names[f.ambiguous]; ok {
			return fmt.Errorf("kallsyms: %s: %w", f.ambiguous, kallsyms.ErrAmbiguous)
		}
		var missing []string
		for name := range names {
			addr, ok := f.addrs[name]
			switch {
			case !ok:
				missing = append(missing, name)
			case f.restricted:
				names[name] = 0
			default:
				names[name] = addr
			}
		}
		if f.restricted {
			return fmt.Errorf("kallsyms: all addresses read as zero: %w", ErrRestrictedKernel)
		}
		if missing != nil {
			slices.Sort(missing)
			return &kallsyms.NotFoundError{Symbols: missing}
		}
		return nil
	}
	kallsymsModules = func(names map[string]string) error {
		f.passes++
		var missing []string
		for name := range names {
			if m, ok := f.modules[name]; ok {
				names[name] = m
			} else {
				missing = append(missing, name)
			}
		}
		if missing != nil {
			slices.Sort(missing)
			return &kallsyms.NotFoundError{Symbols: missing}
		}
		return nil
	}
}

// ksymLoads returns a program loading the named kernel symbols: typeless
// ones ("void:name", "weak void:name"), typed ones ("int:name") and kfunc
// addresses ("func:name").
func ksymLoads(names ...string) asm.Instructions {
	insns := make(asm.Instructions, 0, len(names)+1)
	for _, spec := range names {
		ins := asm.LoadImm(asm.R1, 0, asm.DWord)
		bind := elf.STB_GLOBAL
		if s, ok := strings.CutPrefix(spec, "weak "); ok {
			bind, spec = elf.STB_WEAK, s
		}
		kind, name, _ := strings.Cut(spec, ":")
		switch kind {
		case "void":
			ins.Metadata.Set(ksymMetaKey{}, &ksymMeta{Binding: bind, Name: name, Type: &btf.Void{}})
		case "int":
			ins.Metadata.Set(ksymMetaKey{}, &ksymMeta{Binding: bind, Name: name, Type: &btf.Int{Name: "int", Size: 4}})
		case "func":
			ins.Metadata.Set(kfuncMetaKey{}, &kfuncMeta{Binding: bind, Func: &btf.Func{Name: name}})
		}
		insns = append(insns, ins)
	}
	return append(insns, asm.Return())
}

func TestKallsymsCache(t *testing.T) {
	kernel := map[string]uint64{"a": 0xa0, "b": 0xb0, "c": 0xc0, "dup": 0xd0}

	t.Run("addresses of all programs in one pass", func(t *testing.T) {
		f := &fakeKallsyms{addrs: kernel}
		f.install(t)
		p1, p2 := ksymLoads("void:a", "void:b"), ksymLoads("void:c", "weak void:gone", "int:typed")
		c := newKallsymsCache(p1, p2)

		qt.Assert(t, qt.IsNil(resolveTypelessKsyms(p1, c)))
		qt.Assert(t, qt.IsNil(resolveTypelessKsyms(p2, c)))
		qt.Assert(t, qt.Equals(f.passes, 1))
		got := []int64{p1[0].Constant, p1[1].Constant, p2[0].Constant, p2[1].Constant}
		qt.Assert(t, qt.DeepEquals(got, []int64{0xa0, 0xb0, 0xc0, 0}))
		// Resolved loads lose their metadata; the typed one is untouched.
		qt.Assert(t, qt.IsNil(p1[0].Metadata.Get(ksymMetaKey{})))
		qt.Assert(t, qt.IsNotNil(p2[2].Metadata.Get(ksymMetaKey{})))

		// A program the cache wasn't made for costs a pass of its own,
		// for its new names only.
		p3 := ksymLoads("void:a", "void:dup")
		qt.Assert(t, qt.IsNil(resolveTypelessKsyms(p3, c)))
		qt.Assert(t, qt.Equals(f.passes, 2))
		qt.Assert(t, qt.Equals(p3[1].Constant, int64(0xd0)))
	})

	t.Run("strong symbol missing", func(t *testing.T) {
		f := &fakeKallsyms{addrs: kernel}
		f.install(t)
		p1, p2 := ksymLoads("void:a"), ksymLoads("void:b", "void:gone")
		c := newKallsymsCache(p1, p2)
		// The program that doesn't need the missing symbol loads.
		qt.Assert(t, qt.IsNil(resolveTypelessKsyms(p1, c)))
		err := resolveTypelessKsyms(p2, c)
		qt.Assert(t, qt.ErrorMatches(err, `instruction 2: kernel symbol "gone": not in /proc/kallsyms: file does not exist`))
		qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
		qt.Assert(t, qt.Equals(f.passes, 1))
	})

	t.Run("restricted", func(t *testing.T) {
		f := &fakeKallsyms{addrs: kernel, restricted: true}
		f.install(t)
		p := ksymLoads("weak void:a", "void:b")
		err := resolveTypelessKsyms(p, newKallsymsCache(p))
		qt.Assert(t, qt.ErrorMatches(err, `instruction 2: kernel symbol "b": .*`))
		qt.Assert(t, qt.ErrorIs(err, ErrRestrictedKernel))
		qt.Assert(t, qt.Equals(p[0].Constant, int64(0)))
	})

	t.Run("ambiguous symbol of another program", func(t *testing.T) {
		f := &fakeKallsyms{addrs: kernel, ambiguous: "dup"}
		f.install(t)
		p1, p2 := ksymLoads("void:a"), ksymLoads("void:dup")
		c := newKallsymsCache(p1, p2)
		// The batch fails for p2's name; p1 asks again for its own.
		qt.Assert(t, qt.IsNil(resolveTypelessKsyms(p1, c)))
		qt.Assert(t, qt.Equals(p1[0].Constant, int64(0xa0)))
		err := resolveTypelessKsyms(p2, c)
		qt.Assert(t, qt.ErrorIs(err, kallsyms.ErrAmbiguous))
		qt.Assert(t, qt.ErrorMatches(err, `kernel symbols: kallsyms: dup: .*`))
		qt.Assert(t, qt.Equals(f.passes, 3))
	})

	t.Run("not a 64-bit load", func(t *testing.T) {
		f := &fakeKallsyms{addrs: kernel}
		f.install(t)
		p := ksymLoads("void:a")
		p[0] = asm.Mov.Imm(asm.R1, 0).WithMetadata(p[0].Metadata)
		err := resolveTypelessKsyms(p, newKallsymsCache(p))
		qt.Assert(t, qt.ErrorMatches(err, `instruction 0: kernel symbol "a" used by .*, not a 64-bit load`))
	})

	t.Run("modules", func(t *testing.T) {
		f := &fakeKallsyms{modules: map[string]string{"in_kernel": "", "in_mod": "mod", "other": "mod2"}}
		f.install(t)
		p1 := ksymLoads("func:in_mod", "int:gone", "void:typeless")
		p2 := ksymLoads("weak func:missing", "func:other")
		c := newKallsymsCache(p1, p2)

		for _, test := range []struct {
			name, module string
			err          error
		}{
			{"in_mod", "mod", nil},
			{"gone", "", os.ErrNotExist},
			{"missing", "", os.ErrNotExist},
			{"other", "mod2", nil},
			{"in_mod", "mod", nil},
		} {
			module, err := c.module(test.name)
			if test.err != nil {
				qt.Assert(t, qt.ErrorIs(err, test.err), qt.Commentf("%s", test.name))
				continue
			}
			qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", test.name))
			qt.Assert(t, qt.Equals(module, test.module), qt.Commentf("%s", test.name))
		}
		qt.Assert(t, qt.Equals(f.passes, 1))

		// A name of no program (an attach target) costs a pass once.
		module, err := c.module("in_kernel")
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(module, ""))
		_, err = c.module("in_kernel")
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(f.passes, 2))
	})
}
