package btf

import (
	"bytes"
	"encoding/binary"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

// coreObject is a test object's CO-RE relocations and its BTF.
type coreObject struct {
	name   string
	spec   *Spec
	relos  []*CORERelocation
	source string
}

// coreObjects returns the little-endian test objects that have CO-RE
// relocations.
func coreObjects(tb testing.TB) []coreObject {
	tb.Helper()
	var out []coreObject
	for _, file := range testdataObjects(tb) {
		if !strings.HasSuffix(file, "-el.elf") {
			continue
		}
		f, err := os.Open(file)
		qt.Assert(tb, qt.IsNil(err))
		spec, ext, err := LoadSpecAndExtInfosFromReader(f)
		f.Close()
		qt.Assert(tb, qt.IsNil(err))
		if ext == nil || len(ext.CORERelos) == 0 {
			continue
		}
		obj := coreObject{name: strings.TrimSuffix(filepath.Base(file), "-el.elf"), spec: spec, source: file}
		for _, sec := range slices.Sorted(maps.Keys(ext.CORERelos)) {
			for _, ro := range ext.CORERelos[sec] {
				obj.relos = append(obj.relos, ro.Relo)
			}
		}
		out = append(out, obj)
	}
	qt.Assert(tb, qt.Not(qt.HasLen(out, 0)))
	return out
}

// checkSameRelocations relocates obj against full and against min and
// requires the same fixups, except that a target type ID must name a type
// of the same kind and name.
func checkSameRelocations(tb testing.TB, obj coreObject, full, min *Spec) {
	tb.Helper()
	for _, relo := range obj.relos {
		want, errWant := CORERelocate([]*CORERelocation{relo}, []*Spec{full}, binary.LittleEndian, obj.spec.TypeID)
		got, errGot := CORERelocate([]*CORERelocation{relo}, []*Spec{min}, binary.LittleEndian, obj.spec.TypeID)
		if errWant != nil {
			qt.Assert(tb, qt.IsNotNil(errGot), qt.Commentf("%s: %v", relo, errWant))
			continue
		}
		qt.Assert(tb, qt.IsNil(errGot), qt.Commentf("%s", relo))
		w, g := want[0], got[0]
		if relo.kind == coreTypeIdTarget && !w.poison {
			wt, err := full.TypeByID(TypeID(w.target))
			qt.Assert(tb, qt.IsNil(err))
			gt, err := min.TypeByID(TypeID(g.target))
			qt.Assert(tb, qt.IsNil(err))
			qt.Assert(tb, qt.Equals(kindWord(gt)+" "+gt.TypeName(), kindWord(wt)+" "+wt.TypeName()), qt.Commentf("%s", relo))
			g.target = w.target
		}
		qt.Assert(tb, qt.Equals(g, w), qt.Commentf("%s: got %s, want %s", relo, &g, &w))
	}
}

func minimize(tb testing.TB, target *Spec, relos []*CORERelocation) (*Spec, []byte) {
	tb.Helper()
	b, err := MinimizeForCORE(target, relos)
	qt.Assert(tb, qt.IsNil(err))
	raw, err := b.Marshal(nil, nil)
	qt.Assert(tb, qt.IsNil(err))
	min, err := LoadSpecFromReader(bytes.NewReader(raw))
	qt.Assert(tb, qt.IsNil(err))
	return min, raw
}

// TestMinimizeForCORE minimizes the running kernel's and the Debian
// kernels' BTF for each CO-RE test object and for all of them at once, and
// relocates every object against the result as against the full BTF.
func TestMinimizeForCORE(t *testing.T) {
	objects := coreObjects(t)
	var all []*CORERelocation
	for _, obj := range objects {
		all = append(all, obj.relos...)
	}
	for _, k := range testKernels(t) {
		t.Run(k.Name, func(t *testing.T) {
			full, err := LoadSpec(k.File)
			qt.Assert(t, qt.IsNil(err))
			for _, obj := range objects {
				min, raw := minimize(t, full, obj.relos)
				checkSameRelocations(t, obj, full, min)
				t.Logf("%s: %d relocations, %d bytes", obj.name, len(obj.relos), len(raw))
			}
			min, raw := minimize(t, full, all)
			for _, obj := range objects {
				checkSameRelocations(t, obj, full, min)
			}
			t.Logf("all %d objects: %d bytes", len(objects), len(raw))
		})
	}
}

// TestMinimizeForCOREAgainstBpftool compares sizes with `bpftool gen
// min_core_btf` for the same kernel and objects: ours is never larger.
func TestMinimizeForCOREAgainstBpftool(t *testing.T) {
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("bpftool not installed")
	}
	objects := coreObjects(t)
	for _, k := range testKernels(t) {
		t.Run(k.Name, func(t *testing.T) {
			full, err := LoadSpec(k.File)
			qt.Assert(t, qt.IsNil(err))
			sets := map[string][]coreObject{"all": objects}
			for _, obj := range objects {
				sets[obj.name] = []coreObject{obj}
			}
			for _, name := range slices.Sorted(maps.Keys(sets)) {
				var relos []*CORERelocation
				args := []string{"gen", "min_core_btf", k.File, filepath.Join(t.TempDir(), "min.btf")}
				for _, obj := range sets[name] {
					relos = append(relos, obj.relos...)
					args = append(args, obj.source)
				}
				out, err := exec.Command(bpftool, args...).CombinedOutput()
				if err != nil {
					t.Logf("%s: bpftool fails: %v: %s", name, err, bytes.TrimSpace(out))
					continue
				}
				theirs, err := os.ReadFile(args[3])
				qt.Assert(t, qt.IsNil(err))
				_, ours := minimize(t, full, relos)
				t.Logf("%s: ours %d bytes, bpftool's %d bytes", name, len(ours), len(theirs))
				qt.Assert(t, qt.IsTrue(len(ours) <= len(theirs)), qt.Commentf("%s: ours %d bytes, bpftool's %d", name, len(ours), len(theirs)))
			}
		})
	}
}
