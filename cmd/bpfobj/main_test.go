package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestMain(m *testing.M) { testutils.TestMain(m) }

// bpfobj runs the command in-process.
func bpfobj(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// bpfobjJSON runs the command with -json and decodes its report.
func bpfobjJSON(t *testing.T, args ...string) (*Report, string, int) {
	t.Helper()
	out, errOut, code := bpfobj(t, append([]string{"-json"}, args...)...)
	var r Report
	qt.Assert(t, qt.IsNil(json.Unmarshal([]byte(out), &r)), qt.Commentf("stdout: %s\nstderr: %s", out, errOut))
	return &r, errOut, code
}

// object is the path of a test object in the host's byte order.
func object(name string) string {
	suffix := "-el.elf"
	if isBigEndian(binary.NativeEndian) {
		suffix = "-eb.elf"
	}
	return filepath.Join("..", "..", "testdata", name+suffix)
}

// hasRow reports whether a line of out starts with the given
// whitespace-separated fields, so that assertions don't depend on column
// widths.
func hasRow(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		got := strings.Fields(line)
		if len(got) >= len(fields) && slicesEqual(got[:len(fields)], fields) {
			return true
		}
	}
	return false
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func assertRows(t *testing.T, out string, rows ...[]string) {
	t.Helper()
	for _, row := range rows {
		qt.Check(t, qt.IsTrue(hasRow(out, row...)), qt.Commentf("no row %q in:\n%s", row, out))
	}
}

// The embedded default objects are copies of the test objects (go generate
// makes them); they must not drift apart.
func TestEmbeddedObjectsMatchTestdata(t *testing.T) {
	for name, embedded := range map[string][]byte{
		"bpfobj_default-el.elf": defaultObjectEL,
		"bpfobj_default-eb.elf": defaultObjectEB,
	} {
		want, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
		qt.Assert(t, qt.IsNil(err))
		qt.Check(t, qt.IsTrue(bytes.Equal(embedded, want)),
			qt.Commentf("cmd/bpfobj/%s differs from testdata/%s: run go generate ./cmd/bpfobj", name, name))
	}
	name, obj := defaultObject()
	qt.Assert(t, qt.IsTrue(bytes.Equal(obj, defaultObjectEL) == !isBigEndian(binary.NativeEndian)), qt.Commentf("picked %s", name))
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	qt.Assert(t, qt.IsNil(os.WriteFile(text, []byte("just some text\n"), 0o644)))
	empty := filepath.Join(dir, "empty.o")
	qt.Assert(t, qt.IsNil(os.WriteFile(empty, nil, 0o644)))
	truncated := filepath.Join(dir, "truncated.o")
	whole, err := os.ReadFile(object("bpfobj_default"))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsNil(os.WriteFile(truncated, whole[:len(whole)/3], 0o644)))
	def := object("bpfobj_default")

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"help"}, exitOK, ""},
		{"show", []string{"show", def}, exitOK, ""},
		{"implicit show", []string{def}, exitOK, ""},
		{"flags after file", []string{"show", def, "-d"}, exitOK, ""},
		{"missing file", []string{"show", filepath.Join(dir, "nope.o")}, exitFailure, "no such file or directory"},
		{"missing file implicit show", []string{filepath.Join(dir, "nope.o")}, exitFailure, "no such file or directory"},
		{"not ELF", []string{"show", text}, exitFailure, "is not an ELF object file"},
		{"empty file", []string{"show", empty}, exitFailure, "is not an ELF object file"},
		{"truncated ELF", []string{"show", truncated}, exitFailure, "read " + truncated},
		{"directory", []string{"show", dir}, exitFailure, "is not a regular file"},
		{"load missing file", []string{"load", filepath.Join(dir, "nope.o")}, exitFailure, "no such file or directory"},
		{"load not ELF", []string{"load", text}, exitFailure, "is not an ELF object file"},
		{"run missing file", []string{"run", filepath.Join(dir, "nope.o"), "prog"}, exitFailure, "no such file or directory"},
		{"run unknown program", []string{"run", def, "nope"}, exitFailure, `no program "nope"`},
		{"load unknown program", []string{"load", "-prog", "nope", def}, exitFailure, `no program "nope"`},
		{"unknown flag", []string{"show", "-bogus", def}, exitUsage, "flag provided but not defined: -bogus"},
		{"flag of another subcommand", []string{"show", "-prog", "x", def}, exitUsage, "-prog"},
		{"show without file", []string{"show"}, exitUsage, "show needs one FILE.o"},
		{"show two files", []string{"show", def, def}, exitUsage, "show needs one FILE.o"},
		{"too many arguments", []string{def, def}, exitUsage, "too many arguments"},
		{"-v with show", []string{"-v", def}, exitUsage, "-v applies to load and run"},
		{"load without file", []string{"load"}, exitUsage, "load needs one FILE.o"},
		{"run without program", []string{"run", def}, exitUsage, "run needs FILE.o and PROG"},
		{"run repeat 0", []string{"run", "-repeat", "0", def, "xdp_count"}, exitUsage, "-repeat"},
		{"run bad hex", []string{"run", "-data", "zz", def, "xdp_count"}, exitUsage, "-data: not hex"},
		{"run bad ctx", []string{"run", "-ctx", "abc", def, "xdp_count"}, exitUsage, "-ctx: not hex"},
		{"run missing data file", []string{"run", "-data", "@" + filepath.Join(dir, "nope"), def, "xdp_count"}, exitUsage, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := bpfobj(t, tc.args...)
			qt.Check(t, qt.Equals(code, tc.code), qt.Commentf("stderr: %s", stderr))
			if tc.stderr != "" {
				qt.Check(t, qt.StringContains(stderr, tc.stderr))
			}
			if tc.code == exitUsage {
				qt.Check(t, qt.StringContains(stderr, "Usage:"))
			}
		})
	}
}

// With -json, failures still print one document, with the error.
func TestJSONOnFailure(t *testing.T) {
	r, stderr, code := bpfobjJSON(t, "show", filepath.Join(t.TempDir(), "nope.o"))
	qt.Assert(t, qt.Equals(code, exitFailure))
	qt.Assert(t, qt.StringContains(r.Error, "no such file or directory"))
	qt.Assert(t, qt.StringContains(stderr, r.Error))
	qt.Assert(t, qt.IsNil(r.Object))
}

func TestParseInterspersed(t *testing.T) {
	var opts options
	fs := newFlagSet("run", &opts)
	pos, err := parseInterspersed(fs, []string{"a.o", "-repeat", "3", "prog", "--", "-json"})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(pos, []string{"a.o", "prog", "-json"}))
	qt.Assert(t, qt.Equals(opts.repeat, uint(3)))
	qt.Assert(t, qt.IsFalse(opts.json))
}
