package ebpf

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// coreRelocations returns the CO-RE relocations of every program of spec.
func coreRelocations(spec *CollectionSpec) []*btf.CORERelocation {
	var relos []*btf.CORERelocation
	for _, name := range sortedKeys(spec.Programs) {
		for i := range spec.Programs[name].Instructions {
			if relo := btf.CORERelocationMetadata(&spec.Programs[name].Instructions[i]); relo != nil {
				relos = append(relos, relo)
			}
		}
	}
	return relos
}

// TestMinimalCOREKernelTypes uses btf.MinimizeForCORE's BTF as
// ProgramOptions.KernelTypes for every test object with CO-RE relocations:
// the relocations rewrite each instruction as the kernel's full BTF does
// (a target type ID may differ, but names the same type), the object
// loads (or fails) alike, and the programs that run under
// BPF_PROG_TEST_RUN leave the same global variables behind. In the VM
// tests this runs against Debian's 6.1 and 6.12 too.
func TestMinimalCOREKernelTypes(t *testing.T) {
	kernel, err := btf.LoadKernelSpec()
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	files, err := filepath.Glob("testdata/*-el.elf")
	qt.Assert(t, qt.IsNil(err))
	objects := 0
	for _, file := range files {
		spec, err := LoadCollectionSpec(file)
		if err != nil {
			// Invalid on purpose (the ELF reader's error tests) or
			// a part for the linker (objlink_*): the reader's tests
			// cover them.
			t.Logf("%s: not an object to load: %v", file, err)
			continue
		}
		relos := coreRelocations(spec)
		if len(relos) == 0 {
			continue
		}
		objects++
		name := strings.TrimSuffix(filepath.Base(file), "-el.elf")
		t.Run(name, func(t *testing.T) {
			b, err := btf.MinimizeForCORE(kernel, relos)
			qt.Assert(t, qt.IsNil(err))
			min, err := b.Spec()
			qt.Assert(t, qt.IsNil(err))
			raw, err := b.Marshal(nil, nil)
			qt.Assert(t, qt.IsNil(err))
			t.Logf("%d relocations, %d bytes of BTF", len(relos), len(raw))

			for _, pname := range sortedKeys(spec.Programs) {
				compareCORE(t, spec.Programs[pname], kernel, min)
			}
			if os.Geteuid() == 0 {
				compareLoads(t, spec, kernel, min)
			}
		})
	}
	qt.Assert(t, qt.Not(qt.Equals(objects, 0)))
}

// compareCORE applies the CO-RE relocations of ps against full and
// against min and compares the instructions.
func compareCORE(t *testing.T, ps *ProgramSpec, full, min *btf.Spec) {
	t.Helper()
	apply := func(kernel *btf.Spec) asm.Instructions {
		insns := slices.Clone(ps.Instructions)
		var b btf.Builder
		err := applyCORE(insns, ps.ByteOrder, &b, nil, &ProgramOptions{KernelTypes: kernel})
		qt.Assert(t, qt.IsNil(err), qt.Commentf("program %s", ps.Name))
		return insns
	}
	want, got := apply(full), apply(min)
	for i := range want {
		relo := btf.CORERelocationMetadata(&want[i])
		if relo == nil {
			continue
		}
		w, g := want[i], got[i]
		if strings.HasPrefix(relo.String(), "target_type_id ") && w.Constant != g.Constant {
			// IDs differ between the two BTFs; the type must not.
			wt, err := full.TypeByID(btf.TypeID(w.Constant))
			qt.Assert(t, qt.IsNil(err))
			gt, err := min.TypeByID(btf.TypeID(g.Constant))
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(fmt.Sprintf("%s", gt), fmt.Sprintf("%s", wt)), qt.Commentf("%s", relo))
			g.Constant = w.Constant
		}
		qt.Assert(t, qt.Equals(g.String(), w.String()), qt.Commentf("program %s: %s", ps.Name, relo))
	}
}

// compareLoads loads spec with each BTF as KernelTypes; both must load or
// fail alike, and tc programs run on a test packet must leave the same
// globals (a target type ID aside).
func compareLoads(t *testing.T, spec *CollectionSpec, full, min *btf.Spec) {
	t.Helper()
	// The programs of core.c record the calling thread's IDs.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	type result struct {
		Err  string
		Vars map[string][]byte
		Rets map[string]uint32
	}
	load := func(kernel *btf.Spec) result {
		var r result
		coll, err := NewCollectionWithOptions(spec.Copy(), CollectionOptions{Programs: ProgramOptions{KernelTypes: kernel}})
		if err != nil {
			r.Err = err.Error()
			return r
		}
		defer coll.Close()
		r.Rets = map[string]uint32{}
		for _, name := range sortedKeys(coll.Programs) {
			if spec.Programs[name].Type == SchedCLS {
				r.Rets[name] = testRun(t, coll, name, collPacket)
			}
		}
		r.Vars = map[string][]byte{}
		for _, name := range sortedKeys(coll.Variables) {
			if name == "target_type_id" {
				continue
			}
			v := coll.Variables[name]
			buf := make([]byte, v.Size())
			qt.Assert(t, qt.IsNil(v.Get(buf)))
			r.Vars[name] = buf
		}
		return r
	}
	want, got := load(full), load(min)
	qt.Assert(t, qt.DeepEquals(got, want))
	if want.Err != "" {
		t.Logf("fails alike: %s", want.Err)
		return
	}
	t.Logf("loads alike; %d programs run, %d globals equal", len(want.Rets), len(want.Vars))
}
