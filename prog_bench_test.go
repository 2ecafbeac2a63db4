package ebpf

import (
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// BenchmarkNewProgram loads programs of increasing needs: none, CO-RE
// against the kernel's BTF (decoded afresh for each load, as a lone
// NewProgram does, and shared through one btf.Cache, as a collection
// does), and bpf-to-bpf calls with maps. The fd leak tracking of TestMain
// adds a stack capture per fd.
func BenchmarkNewProgram(b *testing.B) {
	testutils.RequireRoot(b)

	load := func(b *testing.B, spec *ProgramSpec, c func() *btf.Cache) {
		b.Helper()
		b.ReportAllocs()
		for b.Loop() {
			prog, err := newProgramWithOptions(spec, ProgramOptions{}, c(), nil)
			if err != nil {
				b.Fatal(err)
			}
			prog.Close()
		}
	}
	perLoad := func() *btf.Cache { return nil }

	b.Run("plain", func(b *testing.B) {
		load(b, returnProgram("bench", 0), perLoad)
	})

	core := benchObjectProgram(b, "core", "core_relos")
	b.Run("core", func(b *testing.B) { load(b, core, perLoad) })
	shared := btf.NewCache()
	b.Run("core/shared-cache", func(b *testing.B) {
		load(b, core, func() *btf.Cache { return shared })
	})

	b.Run("subprograms", func(b *testing.B) {
		load(b, benchObjectProgram(b, "subprogs", "compute"), perLoad)
	})
}

// benchObjectProgram returns the spec of a program of a testdata object
// with its maps created.
func benchObjectProgram(b *testing.B, object, program string) *ProgramSpec {
	b.Helper()
	spec, err := LoadCollectionSpec("testdata/" + object + "-el.elf")
	qt.Assert(b, qt.IsNil(err))
	ps := spec.Programs[program].Copy()
	maps := make(map[string]*Map)
	for i := range ps.Instructions {
		ins := &ps.Instructions[i]
		ref := ins.Reference()
		if ref == "" || !ins.IsLoadFromMap() {
			continue
		}
		if maps[ref] == nil {
			m, err := NewMap(spec.Maps[ref])
			qt.Assert(b, qt.IsNil(err))
			b.Cleanup(func() { m.Close() })
			maps[ref] = m
		}
		qt.Assert(b, qt.IsNil(ins.AssociateMap(maps[ref])))
	}
	return ps
}
