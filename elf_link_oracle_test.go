package ebpf

import (
	"bytes"
	"cmp"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// This file holds the oracle of the static linker: bpftool gen object
// (libbpf's bpf_linker) links the same inputs, and both outputs must read
// into the same CollectionSpec, load, and make their programs return the
// same values.

// bpftoolLink links inputs with bpftool gen object, or skips.
func bpftoolLink(t testing.TB, inputs ...string) []byte {
	t.Helper()
	bpftool := bpftoolPath(t)
	out := filepath.Join(t.TempDir(), "linked.o")
	cmd := exec.Command(bpftool, append([]string{"gen", "object", out}, inputs...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bpftool gen object: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	qt.Assert(t, qt.IsNil(err))
	return data
}

// libbpfOpens reports what libbpf makes of a linked object: bpftool gen
// skeleton opens it with bpf_object__open (sections, maps, programs, BTF
// and .BTF.ext), and bpftool gen object links it again. Our output must
// fare at least as well as bpftool's own (libbpf 1.x refuses legacy "maps"
// sections, which cilium's linked objects have).
func libbpfOpens(t testing.TB, obj []byte) []string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "linked.o")
	qt.Assert(t, qt.IsNil(os.WriteFile(in, obj, 0o644)))
	bpftool := bpftoolPath(t)
	var out []string
	for _, args := range [][]string{{"gen", "skeleton", in, "name", "linked"}, {"gen", "object", filepath.Join(dir, "again.o"), in}} {
		msg, err := exec.Command(bpftool, args...).CombinedOutput()
		res := "ok"
		if err != nil {
			res = fmt.Sprintf("%v: %s", err, strings.ReplaceAll(string(msg), dir, "DIR"))
		}
		out = append(out, strings.Join(args[:2], " ")+": "+res)
	}
	return out
}

func bpftoolPath(t testing.TB) string {
	t.Helper()
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/bpftool"); serr != nil {
			t.Skip("bpftool is not installed (.ci/deps.sh installs it)")
		}
		bpftool = "/usr/sbin/bpftool"
	}
	return bpftool
}

// linkedSpecOptions compare two CollectionSpecs read from objects that two
// linkers wrote from the same inputs. BTF type IDs differ between the two
// (libbpf's dedup and ours number types differently), so types are compared
// as graphs: btf types carry no IDs, and the only ID in a spec, the local
// type ID of a CO-RE relocation, is cut from its description. The BTF Spec
// itself is compared by typeCatalog. Everything else is compared in full:
// instructions with their symbols, references, source lines, functions and
// CO-RE relocations, map definitions and contents, variables.
var linkedSpecOptions = gocmp.Options{
	cmpopts.IgnoreFields(CollectionSpec{}, "Types"),
	gocmp.Comparer(func(a, b binary.ByteOrder) bool { return a == b }),
	gocmp.Comparer(func(a, b *bytes.Reader) bool {
		if a == nil || b == nil {
			return a == b
		}
		x, _ := io.ReadAll(io.NewSectionReader(a, 0, a.Size()))
		y, _ := io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
		return bytes.Equal(x, y)
	}),
	gocmp.Transformer("instructions", func(insns asm.Instructions) []insnView {
		out := make([]insnView, len(insns))
		for i := range insns {
			out[i] = viewInsn(&insns[i])
		}
		return out
	}),
}

// insnView is what a spec says about an instruction, without type IDs.
type insnView struct {
	OpCode    asm.OpCode
	Dst, Src  asm.Register
	Offset    int16
	Constant  int64
	Symbol    string
	Reference string
	Source    string
	Func      *btf.Func
	CORE      string
	Metadata  int
}

var localTypeID = regexp.MustCompile(`local type \d+, `)

func viewInsn(ins *asm.Instruction) insnView {
	v := insnView{
		OpCode: ins.OpCode, Dst: ins.Dst, Src: ins.Src, Offset: ins.Offset, Constant: ins.Constant,
		Symbol: ins.Symbol(), Reference: ins.Reference(), Func: btf.FuncMetadata(ins),
		Metadata: ins.Metadata.Len(),
	}
	switch src := ins.Source().(type) {
	case nil:
	case *btf.Line:
		v.Source = fmt.Sprintf("%s:%d:%d %s", src.FileName(), src.LineNumber(), src.LineColumn(), src.Line())
	default:
		v.Source = src.String()
	}
	if relo := btf.CORERelocationMetadata(ins); relo != nil {
		v.CORE = localTypeID.ReplaceAllString(relo.String(), "")
	}
	return v
}

// typeCatalog describes every named type of a BTF spec (two levels deep),
// sorted and without duplicates: two merged BTF blobs that hold the same
// types give the same catalog, whatever their IDs and however thoroughly
// they were deduplicated.
func typeCatalog(t testing.TB, spec *btf.Spec, stale map[string]bool) []string {
	t.Helper()
	if spec == nil {
		return nil
	}
	var out []string
	for typ, err := range spec.All() {
		qt.Assert(t, qt.IsNil(err))
		if typ.TypeName() == "" {
			continue
		}
		out = append(out, describeType(typ, 2, stale))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func describeType(t btf.Type, depth int, stale map[string]bool) string {
	name := fmt.Sprintf("%T %s", t, t.TypeName())
	if size, err := btf.Sizeof(t); err == nil {
		name += fmt.Sprintf(" size %d", size)
	}
	if depth == 0 {
		return name
	}
	var parts []string
	switch v := t.(type) {
	case *btf.Struct:
		for _, m := range v.Members {
			parts = append(parts, fmt.Sprintf("%s@%d:%d %s", m.Name, m.Offset, m.BitfieldSize, describeType(m.Type, depth-1, stale)))
		}
	case *btf.Union:
		for _, m := range v.Members {
			parts = append(parts, fmt.Sprintf("%s@%d:%d %s", m.Name, m.Offset, m.BitfieldSize, describeType(m.Type, depth-1, stale)))
		}
	case *btf.Enum:
		for _, e := range v.Values {
			parts = append(parts, fmt.Sprintf("%s=%d", e.Name, e.Value))
		}
	case *btf.Typedef:
		parts = append(parts, describeType(v.Type, depth-1, stale))
	case *btf.Var:
		parts = append(parts, fmt.Sprint(v.Linkage), describeType(v.Type, depth-1, stale))
	case *btf.Func:
		parts = append(parts, fmt.Sprint(v.Linkage))
		if fp, ok := v.Type.(*btf.FuncProto); ok {
			for _, p := range fp.Params {
				parts = append(parts, p.Name+" "+describeType(p.Type, depth-1, stale))
			}
			parts = append(parts, "-> "+describeType(fp.Return, depth-1, stale))
		}
	case *btf.Datasec:
		for _, vs := range v.Vars {
			if stale[v.Name+"/"+vs.Type.TypeName()] {
				parts = append(parts, fmt.Sprintf("%s@?+%d", vs.Type.TypeName(), vs.Size))
				continue
			}
			parts = append(parts, fmt.Sprintf("%s@%d+%d", vs.Type.TypeName(), vs.Offset, vs.Size))
		}
	}
	if _, ok := t.(*btf.Datasec); ok {
		// Entries compared without offset sort apart from their place.
		slices.Sort(parts)
	}
	if len(parts) == 0 {
		return name
	}
	return name + " {" + strings.Join(parts, ", ") + "}"
}

// compareLinked reads both objects and reports every difference between
// their specs.
func compareLinked(t testing.TB, ours, theirs []byte) (*CollectionSpec, *CollectionSpec) {
	t.Helper()
	// Where libbpf refuses bpftool's own output (legacy maps, or its
	// DATASEC offsets of overridden globals), ours may fare better.
	libOurs, libTheirs := libbpfOpens(t, ours), libbpfOpens(t, theirs)
	for i, line := range libTheirs {
		ourLine := libOurs[i]
		if strings.HasSuffix(line, ": ok") {
			qt.Assert(t, qt.Equals(ourLine, line), qt.Commentf("libbpf reads bpftool's output but not ours"))
		} else if ourLine != line {
			t.Logf("libbpf on bpftool's output: %.300s\nlibbpf on ours: %.300s", line, ourLine)
		}
	}
	a, err := LoadCollectionSpecFromReader(bytes.NewReader(ours))
	qt.Assert(t, qt.IsNil(err), qt.Commentf("our output"))
	b, err := LoadCollectionSpecFromReader(bytes.NewReader(theirs))
	qt.Assert(t, qt.IsNil(err), qt.Commentf("bpftool's output"))
	if diff := gocmp.Diff(b, a, linkedSpecOptions); diff != "" {
		t.Errorf("spec differs from bpftool's (-bpftool +ours):\n%s", diff)
	}
	// libbpf 1.1 leaves the DATASEC entry of a global at its first
	// declaration (a weak definition or an extern) when a later object's
	// definition wins and the symbol moves: those entries are compared
	// without offsets. Ours must agree with its symbols everywhere.
	qt.Assert(t, qt.HasLen(staleDatasecVars(t, ours), 0), qt.Commentf("our DATASEC offsets disagree with our symbols"))
	stale := staleDatasecVars(t, theirs)
	if diff := gocmp.Diff(typeCatalog(t, b.Types, stale), typeCatalog(t, a.Types, stale)); diff != "" {
		t.Errorf("BTF types differ from bpftool's (-bpftool +ours):\n%s", diff)
	}
	return a, b
}

// runnablePacket is the input of programs that take a packet: an Ethernet
// header and an IPv4 header, zeroed beyond the ether type.
var runnablePacket = func() []byte {
	p := make([]byte, 64)
	binary.BigEndian.PutUint16(p[12:], 0x0800)
	p[14] = 0x45
	return p
}()

// loadAndRun loads each program of spec in a collection of its own (with
// all maps) and runs those that BPF_PROG_TEST_RUN can run with a packet. It
// returns the outcome by program name: the return value, "loaded", or the
// load error, so that two linkers' outputs can be compared program by
// program even where this kernel refuses some (tracing programs, or 6.1
// selftests that 6.18's verifier rejects). Maps whose size user space sets
// (max_entries 0 in the object, as samples/bpf's) get 64 entries.
func loadAndRun(t testing.TB, spec *CollectionSpec) map[string]string {
	t.Helper()
	testutils.RequireRoot(t)
	results := make(map[string]string)
	names := make([]string, 0, len(spec.Programs))
	for name := range spec.Programs {
		names = append(names, name)
	}
	slices.SortFunc(names, cmp.Compare)
	for _, name := range names {
		one := spec.Copy()
		for other := range one.Programs {
			if other != name {
				delete(one.Programs, other)
			}
		}
		for _, m := range one.Maps {
			if m.MaxEntries == 0 && m.Type != RingBuf && m.Type != PerfEventArray {
				m.MaxEntries = 64
			}
		}
		coll, err := NewCollection(one)
		if err != nil {
			results[name] = "error: " + err.Error()
			continue
		}
		prog := coll.Programs[name]
		switch prog.Type() {
		case SocketFilter, XDP, SchedCLS, SchedACT, CGroupSKB, LWTIn, LWTOut, LWTXmit, LWTSeg6Local:
			ret, err := prog.Run(&RunOptions{Data: runnablePacket})
			if err != nil {
				results[name] = "loaded, run: " + err.Error()
			} else {
				results[name] = fmt.Sprintf("returned %d", ret)
			}
		default:
			results[name] = "loaded"
		}
		coll.Close()
	}
	return results
}

// staleDatasecVars returns the DATASEC entries ("section/name") of a linked
// object whose offset differs from that of the global symbol they
// describe.
func staleDatasecVars(t testing.TB, obj []byte) map[string]bool {
	t.Helper()
	f, err := parseELF(obj)
	qt.Assert(t, qt.IsNil(err))
	var btfData []byte
	for i := range f.sections {
		if f.sections[i].name == ".BTF" {
			btfData, err = f.sectionData(&f.sections[i])
			qt.Assert(t, qt.IsNil(err))
		}
	}
	stale := make(map[string]bool)
	if btfData == nil {
		return stale
	}
	spec, _, err := btf.LoadSpecAndExtInfosFromSections(btfData, nil, nil)
	qt.Assert(t, qt.IsNil(err))
	for typ, err := range spec.All() {
		qt.Assert(t, qt.IsNil(err))
		ds, ok := typ.(*btf.Datasec)
		if !ok {
			continue
		}
		for _, vs := range ds.Vars {
			for i := range f.symbols {
				sym := &f.symbols[i]
				sec := f.section(sym.section)
				if sym.name == vs.Type.TypeName() && sym.binding() != elf.STB_LOCAL && sym.section != 0 && sec != nil && sec.name == ds.Name && sym.value != uint64(vs.Offset) {
					stale[ds.Name+"/"+sym.name] = true
				}
			}
		}
	}
	return stale
}
