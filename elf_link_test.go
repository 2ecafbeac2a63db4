package ebpf

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/internal/testutils"
)

// objlink inputs in the order whose bpftool output is consistent: strong
// definitions first (see TestLinkWeakVariableMoves).
var objlinkInputs = []string{"testdata/objlink_b-el.elf", "testdata/objlink_a-el.elf"}

func TestLinkAgainstBpftool(t *testing.T) {
	ours, err := LinkObjectFiles(objlinkInputs...)
	qt.Assert(t, qt.IsNil(err))
	a, b := compareLinked(t, ours, bpftoolLink(t, objlinkInputs...))
	qt.Assert(t, qt.DeepEquals(loadAndRun(t, a), loadAndRun(t, b)))
	qt.Assert(t, qt.DeepEquals(loadAndRun(t, a), map[string]string{
		"objlink_entry":  "returned 1246",
		"objlink_second": "returned 54",
	}))
	// hidden_add is hidden in objlink_a and a hidden extern in objlink_b;
	// weak_value and overridden are strong, their weak definitions lost.
	f, err := parseELF(ours)
	qt.Assert(t, qt.IsNil(err))
	got := make(map[string]string)
	for _, sym := range f.symbols {
		switch sym.name {
		case "hidden_add", "weak_value", "overridden", "b_func":
			got[sym.name] = fmt.Sprint(sym.binding(), " ", sym.visibility(), " ", sym.kind())
		}
	}
	qt.Assert(t, qt.DeepEquals(got, map[string]string{
		"hidden_add": "STB_GLOBAL STV_HIDDEN STT_FUNC",
		"weak_value": "STB_GLOBAL STV_DEFAULT STT_OBJECT",
		"overridden": "STB_GLOBAL STV_DEFAULT STT_FUNC",
		"b_func":     "STB_GLOBAL STV_DEFAULT STT_FUNC",
	}))

	// libbpf loads our output too.
	file := filepath.Join(t.TempDir(), "objlink.o")
	qt.Assert(t, qt.IsNil(os.WriteFile(file, ours, 0o644)))
	pins := testutils.TempBPFFS(t)
	if msg, err := exec.Command(bpftoolPath(t), "prog", "loadall", file, pins).CombinedOutput(); err != nil {
		t.Errorf("bpftool prog loadall of our output: %v\n%s", err, msg)
	}
	// Both inputs have a static helper: b's comes first in .text.
	qt.Assert(t, qt.DeepEquals(symbols(a.Programs["objlink_entry"]), []string{"objlink_entry", "b_func", "helper#2", "hidden_add", "overridden"}))
	qt.Assert(t, qt.DeepEquals(symbols(a.Programs["objlink_second"]), []string{"objlink_second", "helper#1"}))
}

func symbols(p *ProgramSpec) []string {
	var out []string
	for _, ins := range p.Instructions {
		if sym := ins.Symbol(); sym != "" {
			out = append(out, sym)
		}
	}
	return out
}

// TestLinkWeakVariableMoves links a weak variable before the strong one
// that replaces it. libbpf 1.1 leaves the DATASEC entry at the weak
// definition while the symbol moves to the strong one (and our ELF reader
// refuses bpftool's output for that); ours moves both.
func TestLinkWeakVariableMoves(t *testing.T) {
	spec, err := LoadLinkedCollectionSpec("testdata/objlink_a-el.elf", "testdata/objlink_b-el.elf")
	qt.Assert(t, qt.IsNil(err))
	v := spec.Variables["weak_value"]
	qt.Assert(t, qt.IsNotNil(v))
	qt.Assert(t, qt.DeepEquals(v.Value, []byte{20, 0, 0, 0}))
	qt.Assert(t, qt.DeepEquals(loadAndRun(t, spec), map[string]string{
		"objlink_entry":  "returned 1246",
		"objlink_second": "returned 54",
	}))
}

// TestLinkCilium links cilium/ebpf v0.22's linked1 and linked2 (weak and
// strong functions and maps, legacy maps), whose linked-el.elf is bpftool's
// output.
func TestLinkCilium(t *testing.T) {
	dir := ciliumTestdata(t)
	inputs := []string{filepath.Join(dir, "linked1-el.elf"), filepath.Join(dir, "linked2-el.elf")}
	ours, err := LinkObjectFiles(inputs...)
	qt.Assert(t, qt.IsNil(err))
	theirs, err := os.ReadFile(filepath.Join(dir, "linked-el.elf"))
	qt.Assert(t, qt.IsNil(err))
	a, b := compareLinked(t, ours, theirs)
	compareLinked(t, ours, bpftoolLink(t, inputs...))
	// linked1.c and linked2.c have no license section; the kernel wants
	// one (an empty string once the loader passes "" instead of NULL).
	for _, spec := range []*CollectionSpec{a, b} {
		for _, p := range spec.Programs {
			if p.License == "" {
				p.License = "GPL"
			}
		}
	}
	qt.Assert(t, qt.DeepEquals(loadAndRun(t, a), loadAndRun(t, b)))
}

// ciliumTestdata returns cilium/ebpf v0.22's testdata in the module cache.
func ciliumTestdata(t testing.TB) string {
	t.Helper()
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			t.Skipf("no module cache: go env: %v", err)
		}
		cache = strings.TrimSpace(string(out))
	}
	dir := filepath.Join(cache, "github.com/cilium/ebpf@v0.22.0/testdata")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("cilium/ebpf v0.22.0 is not in the module cache (go mod download github.com/cilium/ebpf@v0.22.0): %v", err)
	}
	return dir
}

// TestLinkInMemory checks that the in-memory path and the file path give
// the same object and spec, and that linking is deterministic.
func TestLinkInMemory(t *testing.T) {
	fromFiles, err := LinkObjectFiles(objlinkInputs...)
	qt.Assert(t, qt.IsNil(err))
	var readers []io.ReaderAt
	for _, file := range objlinkInputs {
		data, err := os.ReadFile(file)
		qt.Assert(t, qt.IsNil(err))
		readers = append(readers, bytes.NewReader(data))
	}
	inMemory, err := LinkObjects(readers...)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(inMemory, fromFiles))

	spec, err := LoadLinkedCollectionSpec(objlinkInputs...)
	qt.Assert(t, qt.IsNil(err))
	fromReader, err := LoadCollectionSpecFromReader(bytes.NewReader(inMemory))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.CmpEquals(spec, fromReader, specOptions...))
}

// TestLinkIdempotent links an output again, alone, as the kernel
// selftests' Makefile does with bpftool: the second and third generation
// must be identical.
func TestLinkIdempotent(t *testing.T) {
	for _, order := range []string{"el", "eb"} {
		t.Run(order, func(t *testing.T) {
			first, err := LinkObjectFiles("testdata/objlink_b-"+order+".elf", "testdata/objlink_a-"+order+".elf")
			qt.Assert(t, qt.IsNil(err))
			second, err := LinkObjects(bytes.NewReader(first))
			qt.Assert(t, qt.IsNil(err))
			third, err := LinkObjects(bytes.NewReader(second))
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.DeepEquals(third, second))
			a, err := LoadCollectionSpecFromReader(bytes.NewReader(first))
			qt.Assert(t, qt.IsNil(err))
			b, err := LoadCollectionSpecFromReader(bytes.NewReader(third))
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.CmpEquals(a, b, linkedSpecOptions))
		})
	}
}

// TestLinkByteOrders links the big-endian objects (which bpftool can't
// on a little-endian host) and compares with the little-endian result.
func TestLinkByteOrders(t *testing.T) {
	el, err := LoadLinkedCollectionSpec("testdata/objlink_b-el.elf", "testdata/objlink_a-el.elf")
	qt.Assert(t, qt.IsNil(err))
	eb, err := LoadLinkedCollectionSpec("testdata/objlink_b-eb.elf", "testdata/objlink_a-eb.elf")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.CmpEquals(eb, el, linkedSpecOptions,
		cmpopts.IgnoreFields(CollectionSpec{}, "ByteOrder"),
		cmpopts.IgnoreFields(ProgramSpec{}, "ByteOrder"),
		cmpopts.IgnoreFields(MapSpec{}, "Contents"),
		cmpopts.IgnoreFields(VariableSpec{}, "Value")))
	qt.Assert(t, qt.DeepEquals(typeCatalog(t, eb.Types, nil), typeCatalog(t, el.Types, nil)))

	_, err = LinkObjectFiles("testdata/objlink_b-el.elf", "testdata/objlink_a-eb.elf")
	qt.Assert(t, qt.ErrorMatches(err, `testdata/objlink_a-eb.elf: byte order BigEndian differs from the first object's \(LittleEndian\)`))
}

// TestLinkErrors links objlink_b with an object that conflicts with it in
// one way each; the errors follow libbpf's cases and words.
func TestLinkErrors(t *testing.T) {
	for _, tc := range []struct {
		object string
		err    string
	}{
		{"err_objlink_strong", `symbol "b_func": conflicting non-weak definitions`},
		{"err_objlink_extern_type", `global "b_data": incompatible int "int" size 4 and 8`},
		{"err_objlink_struct", `global "b_pair": incompatible field #1 names "b" and "c"`},
		{"err_objlink_kind", `global "b_pair": incompatible BTF kinds struct and int`},
		{"err_objlink_func_proto", `global "b_func": incompatible number of func_proto params 1 and 2`},
		{"err_objlink_map", `global "shared_map": map max_entries mismatch`},
		{"err_objlink_license", `section "license": contents differ from an earlier object's, which is not supported`},
		{"err_objlink_section", `global "weak_value": section mismatch .data vs .bss`},
	} {
		for _, order := range []string{"el", "eb"} {
			t.Run(tc.object+"-"+order, func(t *testing.T) {
				file := "testdata/" + tc.object + "-" + order + ".elf"
				_, err := LinkObjectFiles("testdata/objlink_b-"+order+".elf", file)
				qt.Assert(t, qt.IsNotNil(err))
				qt.Assert(t, qt.Equals(err.Error(), file+": "+tc.err))
			})
		}
	}
}

func TestLinkNothing(t *testing.T) {
	_, err := LinkObjects()
	qt.Assert(t, qt.ErrorIs(err, errNoObjects))
}

// FuzzLinkObjects links a mutated object with objlink_b: errors are fine,
// panics and hangs are not, and whatever links must read back.
func FuzzLinkObjects(f *testing.F) {
	other, err := os.ReadFile("testdata/objlink_b-el.elf")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"objlink_a-el", "objlink_b-el", "err_objlink_map-el", "globals-el"} {
		data, err := os.ReadFile("testdata/" + name + ".elf")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := LinkObjects(bytes.NewReader(other), bytes.NewReader(data))
		if err != nil {
			return
		}
		_, _ = LoadCollectionSpecFromReader(bytes.NewReader(out))
	})
}

// BenchmarkLinkObjects links objlink_b and objlink_a held in memory.
func BenchmarkLinkObjects(b *testing.B) {
	var objs []io.ReaderAt
	for _, file := range objlinkInputs {
		data, err := os.ReadFile(file)
		qt.Assert(b, qt.IsNil(err))
		objs = append(objs, bytes.NewReader(data))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LinkObjects(objs...); err != nil {
			b.Fatal(err)
		}
	}
}
