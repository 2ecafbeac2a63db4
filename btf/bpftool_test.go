package btf

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

// testdataObjects returns the committed test objects of the repository.
func testdataObjects(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob("../testdata/*.elf")
	qt.Assert(tb, qt.IsNil(err))
	if len(files) == 0 {
		tb.Skip("no test objects in ../testdata (run make testdata)")
	}
	return files
}

// TestAgainstBpftool checks every type of kernel BTF and of every test
// object against `bpftool btf dump file X format raw`: kind, name, size,
// members with offsets and bitfields, enum values, params, linkage, datasec
// entries and tags.
func TestAgainstBpftool(t *testing.T) {
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("bpftool not installed")
	}
	files := testdataObjects(t)
	if _, err := os.Stat(vmlinuxPath); err == nil {
		files = append([]string{vmlinuxPath}, files...)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, err := exec.Command(bpftool, "btf", "dump", "file", file, "format", "raw").Output()
			if err != nil {
				t.Skipf("bpftool cannot dump %s: %v", file, err)
			}
			spec, err := LoadSpec(file)
			qt.Assert(t, qt.IsNil(err))
			var sizes map[string]uint64
			if f, err := elf.Open(file); err == nil {
				sizes = map[string]uint64{}
				for _, s := range f.Sections {
					sizes[s.Name] = s.Size
				}
				f.Close()
			}
			compareWithBpftool(t, spec, out, sizes)
		})
	}
}

var (
	bpftoolHeader = regexp.MustCompile(`^\[(\d+)\] (\S+) '([^']*)'(.*)$`)
	// A datasec entry: type_id=N offset=O size=S (VAR 'name').
	bpftoolSecinfo = regexp.MustCompile(`^\ttype_id=(\d+) offset=(\d+) size=(\d+) \((\S+) '([^']*)'\)$`)
)

// compareWithBpftool renders every type of spec as bpftool does and
// compares line by line. sizes holds the ELF section sizes of an object,
// whose DATASECs bpftool prints before the fixups of size and offsets.
func compareWithBpftool(t *testing.T, spec *Spec, dump []byte, sizes map[string]uint64) {
	t.Helper()
	var want []string
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		want = append(want, sc.Text())
	}
	qt.Assert(t, qt.IsNil(sc.Err()))

	var got []string
	ids := 0
	for typ, err := range spec.All() {
		qt.Assert(t, qt.IsNil(err))
		ids++
		id, err := spec.TypeID(typ)
		qt.Assert(t, qt.IsNil(err))
		lines, err := renderBpftool(spec, id, typ)
		qt.Assert(t, qt.IsNil(err))
		got = append(got, lines...)
	}
	if sizes != nil {
		want = fixupDatasecLines(want, got, sizes)
	}
	types := 0
	for _, l := range want {
		if bpftoolHeader.MatchString(l) {
			types++
		}
	}
	qt.Assert(t, qt.Equals(ids, types), qt.Commentf("number of types"))
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			t.Fatalf("line %d differs:\nbpftool: %s\nours:    %s", i+1, want[i], got[i])
		}
	}
	qt.Assert(t, qt.Equals(len(got), len(want)), qt.Commentf("number of lines"))
}

// fixupDatasecLines accepts, in bpftool's lines, the DATASEC sizes and
// variable offsets that LoadSpec fills in from an ELF file: bpftool prints 0
// where we print the section size and the symbol's offset.
func fixupDatasecLines(want, got []string, sizes map[string]uint64) []string {
	out := append([]string(nil), want...)
	for i := range out {
		if i >= len(got) {
			break
		}
		m := bpftoolHeader.FindStringSubmatch(out[i])
		if m != nil && m[2] == "DATASEC" && strings.HasPrefix(m[4], " size=0 ") {
			if size, ok := sizes[m[3]]; ok && strings.Contains(got[i], fmt.Sprintf(" size=%d ", size)) {
				out[i] = got[i]
			}
		}
		if s := bpftoolSecinfo.FindStringSubmatch(out[i]); s != nil && s[2] == "0" {
			if g := bpftoolSecinfo.FindStringSubmatch(got[i]); g != nil && g[1] == s[1] && g[3] == s[3] {
				out[i] = got[i]
			}
		}
	}
	return out
}

func bpftoolName(name string) string {
	if name == "" {
		return "'(anon)'"
	}
	return "'" + name + "'"
}

// renderBpftool prints typ the way `bpftool btf dump format raw` does.
func renderBpftool(spec *Spec, id TypeID, typ Type) ([]string, error) {
	ref := func(t Type) string {
		rid, err := spec.TypeID(t)
		if err != nil {
			return "?"
		}
		return strconv.FormatUint(uint64(rid), 10)
	}
	kind, err := spec.raw.kindOf(id)
	if err != nil {
		return nil, err
	}
	if lines := renderKind(id, kind, typ, ref); lines != nil {
		return lines, nil
	}
	return nil, fmt.Errorf("type %d: unexpected %T", id, typ)
}

func renderKind(id TypeID, kind btfKind, typ Type, ref func(Type) string) []string {
	head := func(format string, args ...any) string {
		return fmt.Sprintf("[%d] %s %s", id, kind, bpftoolName(typ.TypeName())) + fmt.Sprintf(format, args...)
	}
	members := func(ms []Member) []string {
		var out []string
		for _, m := range ms {
			l := fmt.Sprintf("\t%s type_id=%s bits_offset=%d", bpftoolName(m.Name), ref(m.Type), m.Offset)
			if m.BitfieldSize != 0 {
				l += fmt.Sprintf(" bitfield_size=%d", m.BitfieldSize)
			}
			out = append(out, l)
		}
		return out
	}
	switch v := typ.(type) {
	case *Int:
		enc := "(none)"
		switch v.Encoding {
		case Signed:
			enc = "SIGNED"
		case Char:
			enc = "CHAR"
		case Bool:
			enc = "BOOL"
		}
		return []string{head(" size=%d bits_offset=0 nr_bits=%d encoding=%s", v.Size, v.Size*8, enc)}
	case *Pointer:
		return []string{head(" type_id=%s", ref(v.Target))}
	case *Array:
		return []string{head(" type_id=%s index_type_id=%s nr_elems=%d", ref(v.Type), ref(v.Index), v.Nelems)}
	case *Struct:
		return append([]string{head(" size=%d vlen=%d", v.Size, len(v.Members))}, members(v.Members)...)
	case *Union:
		return append([]string{head(" size=%d vlen=%d", v.Size, len(v.Members))}, members(v.Members)...)
	case *Enum:
		enc := "UNSIGNED"
		if v.Signed {
			enc = "SIGNED"
		}
		out := []string{head(" encoding=%s size=%d vlen=%d", enc, v.Size, len(v.Values))}
		for _, ev := range v.Values {
			var val string
			switch {
			case kind == kindEnum64 && v.Signed:
				val = fmt.Sprintf("%dLL", int64(ev.Value))
			case kind == kindEnum64:
				val = fmt.Sprintf("%dULL", ev.Value)
			case v.Signed:
				val = fmt.Sprintf("%d", int32(ev.Value))
			default:
				val = fmt.Sprintf("%d", uint32(ev.Value))
			}
			out = append(out, fmt.Sprintf("\t%s val=%s", bpftoolName(ev.Name), val))
		}
		return out
	case *Fwd:
		return []string{head(" fwd_kind=%s", v.Kind)}
	case *Typedef:
		return []string{head(" type_id=%s", ref(v.Type))}
	case *Volatile:
		return []string{head(" type_id=%s", ref(v.Type))}
	case *Const:
		return []string{head(" type_id=%s", ref(v.Type))}
	case *Restrict:
		return []string{head(" type_id=%s", ref(v.Type))}
	case *Func:
		return []string{head(" type_id=%s linkage=%s", ref(v.Type), v.Linkage)}
	case *FuncProto:
		out := []string{head(" ret_type_id=%s vlen=%d", ref(v.Return), len(v.Params))}
		for _, p := range v.Params {
			out = append(out, fmt.Sprintf("\t%s type_id=%s", bpftoolName(p.Name), ref(p.Type)))
		}
		return out
	case *Var:
		return []string{head(" type_id=%s, linkage=%s", ref(v.Type), v.Linkage)}
	case *Datasec:
		out := []string{head(" size=%d vlen=%d", v.Size, len(v.Vars))}
		for _, vs := range v.Vars {
			out = append(out, fmt.Sprintf("\ttype_id=%s offset=%d size=%d (%s %s)", ref(vs.Type), vs.Offset, vs.Size, kindOfType(vs.Type), bpftoolName(vs.Type.TypeName())))
		}
		return out
	case *Float:
		return []string{head(" size=%d", v.Size)}
	case *DeclTag:
		return []string{fmt.Sprintf("[%d] %s %s type_id=%s component_idx=%d", id, kind, bpftoolName(v.Value), ref(v.Type), v.Index)}
	case *TypeTag:
		return []string{fmt.Sprintf("[%d] %s %s type_id=%s", id, kind, bpftoolName(v.Value), ref(v.Type))}
	}
	return nil
}

func kindOfType(t Type) string {
	switch t.(type) {
	case *Var:
		return "VAR"
	case *Func:
		return "FUNC"
	}
	return kindName(t)
}
