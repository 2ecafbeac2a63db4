package sys

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

// layoutCase ties a generated Go struct to its C type; layout_gen_test.go
// holds one per struct. It names members only: every offset and size the
// test compares comes from the C compiler.
type layoutCase struct {
	goType reflect.Type
	cRoot  string // "union bpf_attr", "struct bpf_prog_info"
	cSize  string // C expression of the struct's size, "" if C can't name it
	fields []layoutField
}

type layoutField struct {
	goName   string
	cPath    string // designator from cRoot
	bitfield bool   // the Go field is the storage unit of a bitfield
}

type layoutConst struct {
	name  string
	value int64
}

// cFacts is what the compiled C program printed.
type cFacts struct {
	fields map[string]cField // "root|path"
	sizes  map[string]int    // cSize expression
	consts map[string]int64
}

type cField struct {
	off, size, align int
	signed           int // 1 signed, 0 unsigned, -1 not printed
}

func TestLayoutTableComplete(t *testing.T) {
	for _, lc := range generatedLayouts {
		var named []string
		for i := range lc.goType.NumField() {
			if f := lc.goType.Field(i); f.Name != "_" {
				named = append(named, f.Name)
			}
		}
		var listed []string
		for _, f := range lc.fields {
			listed = append(listed, f.goName)
		}
		qt.Check(t, qt.DeepEquals(listed, named), qt.Commentf("%s", lc.goType))
	}
}

// TestLayoutNoImplicitPadding checks that Go inserts no padding of its own,
// so the structs have the same layout wherever Go's alignment rules are
// weaker than C's (uint64 on 386): every field starts where the previous
// one ended.
func TestLayoutNoImplicitPadding(t *testing.T) {
	for _, lc := range generatedLayouts {
		end := uintptr(0)
		for i := range lc.goType.NumField() {
			f := lc.goType.Field(i)
			qt.Check(t, qt.Equals(f.Offset, end), qt.Commentf("%s.%s", lc.goType, f.Name))
			end = f.Offset + f.Type.Size()
		}
		qt.Check(t, qt.Equals(lc.goType.Size(), end), qt.Commentf("%s size", lc.goType))
	}
}

// TestLayoutAgainstC compiles a C program that includes the generator's
// input header and prints the offset, size and alignment of every member
// and the value of every constant, and compares them with the Go structs.
func TestLayoutAgainstC(t *testing.T) {
	hdr, err := filepath.Abs("../cmd/uapi/bpf-uapi.h")
	qt.Assert(t, qt.IsNil(err))
	facts := compileFacts(t, fmt.Sprintf("#include %q\n", hdr))
	for _, lc := range generatedLayouts {
		checkLayout(t, lc, facts, true)
	}
	for _, c := range generatedConstants {
		v, ok := facts.consts[c.name]
		if qt.Check(t, qt.IsTrue(ok), qt.Commentf("constant %s not printed", c.name)) {
			qt.Check(t, qt.Equals(c.value, v), qt.Commentf("constant %s", c.name))
		}
	}
}

// TestLayoutAgainstSystemHeader does the same against the system's
// linux/bpf.h, which may be older (6.1 on Debian bookworm): members and
// constants it lacks are left out, the ones it has must sit at the same
// place, since the UAPI only ever appends.
func TestLayoutAgainstSystemHeader(t *testing.T) {
	if _, err := os.Stat("/usr/include/linux/bpf.h"); err != nil {
		t.Skip("no /usr/include/linux/bpf.h:", err)
	}
	facts := compileFacts(t, "#include <linux/bpf.h>\n")
	compared := 0
	for _, lc := range generatedLayouts {
		compared += checkLayout(t, lc, facts, false)
	}
	for _, c := range generatedConstants {
		if v, ok := facts.consts[c.name]; ok {
			qt.Check(t, qt.Equals(c.value, v), qt.Commentf("constant %s", c.name))
			compared++
		}
	}
	t.Logf("%d members and constants compared with the system header", compared)
	qt.Check(t, qt.IsTrue(compared > 300), qt.Commentf("suspiciously few members in the system header"))
}

// checkLayout compares lc with the C facts and returns how many members it
// compared. strict requires every member and size to be known to C.
func checkLayout(t *testing.T, lc layoutCase, facts *cFacts, strict bool) int {
	t.Helper()
	compared := 0
	maxEnd, maxAlign := 0, 1
	for _, lf := range lc.fields {
		gf, ok := lc.goType.FieldByName(lf.goName)
		qt.Assert(t, qt.IsTrue(ok), qt.Commentf("%s.%s", lc.goType, lf.goName))
		cf, ok := facts.fields[lc.cRoot+"|"+lf.cPath]
		if !ok {
			qt.Check(t, qt.IsFalse(strict), qt.Commentf("%s: C knows no %s", lc.goType, lf.cPath))
			continue
		}
		compared++
		where := fmt.Sprintf("%s.%s (%s)", lc.goType, lf.goName, lf.cPath)
		qt.Check(t, qt.Equals(int(gf.Offset), cf.off), qt.Commentf("offset of %s", where))
		qt.Check(t, qt.Equals(int(gf.Type.Size()), cf.size), qt.Commentf("size of %s", where))
		if cf.signed >= 0 {
			qt.Check(t, qt.Equals(isSigned(gf.Type), cf.signed == 1), qt.Commentf("signedness of %s", where))
		}
		maxEnd = max(maxEnd, cf.off+cf.size)
		maxAlign = max(maxAlign, cf.align)
	}
	if !strict {
		return compared
	}
	want := (maxEnd + maxAlign - 1) / maxAlign * maxAlign
	if lc.cSize != "" {
		var ok bool
		want, ok = facts.sizes[lc.cSize]
		qt.Assert(t, qt.IsTrue(ok), qt.Commentf("%s not printed", lc.cSize))
	}
	qt.Check(t, qt.Equals(int(lc.goType.Size()), want), qt.Commentf("size of %s", lc.goType))
	return compared
}

func isSigned(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

var gccError = regexp.MustCompile(`^[^:]*facts\.c:(\d+):\d+: error:`)

// compileFacts writes the C program, compiles it with gcc and parses its
// output. Statements that name a member or constant the header lacks fail
// to compile; they are dropped by line and the program compiled again.
func compileFacts(t *testing.T, include string) *cFacts {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found: layout check against the C compiler skipped")
	}
	lines := factLines()
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "facts.c"), filepath.Join(dir, "facts")
	for attempt := 0; ; attempt++ {
		var prog bytes.Buffer
		prog.WriteString("#include <stdio.h>\n#include <stddef.h>\n#include <string.h>\n")
		prog.WriteString(include)
		prog.WriteString("int main(void) {\n")
		first := strings.Count(prog.String(), "\n") + 1
		for _, l := range lines {
			prog.WriteString(l + "\n")
		}
		prog.WriteString("return 0;\n}\n")
		qt.Assert(t, qt.IsNil(os.WriteFile(src, prog.Bytes(), 0o644)))
		out, err := exec.Command(gcc, "-std=gnu11", "-fmax-errors=0", "-o", bin, src).CombinedOutput()
		if err == nil {
			break
		}
		if attempt > 3 {
			t.Fatalf("gcc keeps failing:\n%s", out)
		}
		bad := map[int]bool{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if m := gccError.FindStringSubmatch(sc.Text()); m != nil {
				n, _ := strconv.Atoi(m[1])
				if n < first || n >= first+len(lines) {
					t.Fatalf("gcc error outside the generated statements:\n%s", out)
				}
				bad[n-first] = true
			}
		}
		if len(bad) == 0 {
			t.Fatalf("gcc failed:\n%s", out)
		}
		var keep []string
		for i, l := range lines {
			if !bad[i] {
				keep = append(keep, l)
			}
		}
		lines = keep
	}
	out, err := exec.Command(bin).Output()
	qt.Assert(t, qt.IsNil(err))
	return parseFacts(t, out)
}

// factLines makes one C statement per line, each printing one fact.
func factLines() []string {
	var lines []string
	seenSize := map[string]bool{}
	for _, lc := range generatedLayouts {
		if lc.cSize != "" && !seenSize[lc.cSize] {
			seenSize[lc.cSize] = true
			lines = append(lines, fmt.Sprintf(`printf("S\t%%s\t%%zu\n", %q, %s);`, lc.cSize, lc.cSize))
		}
		for _, lf := range lc.fields {
			key := lc.cRoot + "|" + lf.cPath
			gf, _ := lc.goType.FieldByName(lf.goName)
			member := fmt.Sprintf("((%s *)0)->%s", lc.cRoot, lf.cPath)
			if lf.bitfield {
				// offsetof can't name a bitfield: set its lowest bit and
				// report the storage unit the first non-zero byte is in.
				unit := gf.Type.Size()
				lines = append(lines, fmt.Sprintf(`{ %s x; unsigned char *p = (unsigned char *)&x; size_t i = 0; memset(&x, 0, sizeof x); x.%s = 1; while (i < sizeof x && !p[i]) i++; printf("F\t%%s\t%%zu\t%%zu\t%%zu\t-1\n", %q, i / %d * %d, (size_t)%d, (size_t)%d); }`,
					lc.cRoot, lf.cPath, key, unit, unit, unit, unit))
				continue
			}
			signed := "-1"
			if isScalar(gf.Type) {
				signed = fmt.Sprintf("(int)((__typeof__(%s))-1 < 0)", member)
			}
			lines = append(lines, fmt.Sprintf(`printf("F\t%%s\t%%zu\t%%zu\t%%zu\t%%d\n", %q, offsetof(%s, %s), sizeof(%s), __alignof__(%s), %s);`,
				key, lc.cRoot, lf.cPath, member, member, signed))
		}
	}
	for _, c := range generatedConstants {
		lines = append(lines, fmt.Sprintf(`printf("C\t%%s\t%%lld\n", %q, (long long)(%s));`, c.name, c.name))
	}
	return lines
}

func parseFacts(t *testing.T, out []byte) *cFacts {
	t.Helper()
	facts := &cFacts{fields: map[string]cField{}, sizes: map[string]int{}, consts: map[string]int64{}}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		num := func(i int) int64 {
			n, err := strconv.ParseInt(f[i], 10, 64)
			qt.Assert(t, qt.IsNil(err), qt.Commentf("line %q", line))
			return n
		}
		switch {
		case f[0] == "S" && len(f) == 3:
			facts.sizes[f[1]] = int(num(2))
		case f[0] == "F" && len(f) == 6:
			facts.fields[f[1]] = cField{int(num(2)), int(num(3)), int(num(4)), int(num(5))}
		case f[0] == "C" && len(f) == 3:
			facts.consts[f[1]] = num(2)
		default:
			t.Fatalf("unexpected output line %q", line)
		}
	}
	return facts
}
