package kconfig

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/internal"
)

func names(ns ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(ns))
	for _, n := range ns {
		m[n] = struct{}{}
	}
	return m
}

func gzipped(tb testing.TB, text string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := io.WriteString(zw, text)
	qt.Assert(tb, qt.IsNil(err))
	qt.Assert(tb, qt.IsNil(zw.Close()))
	return buf.Bytes()
}

func TestParse(t *testing.T) {
	basic, err := os.ReadFile("testdata/basic.config")
	qt.Assert(t, qt.IsNil(err))

	for _, tc := range []struct {
		name   string
		input  []byte
		filter map[string]struct{}
		want   map[string]string
	}{
		{
			name:   "values of every kind",
			input:  basic,
			filter: names("CONFIG_BPF_SYSCALL", "CONFIG_HZ", "CONFIG_PHYSICAL_START", "CONFIG_NF_CONNTRACK", "CONFIG_KPROBES", "CONFIG_LSM", "CONFIG_EXTRA_FIRMWARE", "CONFIG_NEGATIVE", "CONFIG_ESCAPED", "CONFIG_MISSING"),
			want: map[string]string{
				"CONFIG_BPF_SYSCALL":    "y",
				"CONFIG_HZ":             "250", // the first of two wins
				"CONFIG_PHYSICAL_START": "0x1000000",
				"CONFIG_NF_CONNTRACK":   "m",
				"CONFIG_KPROBES":        "n",
				"CONFIG_LSM":            `"landlock,lockdown,yama,integrity,apparmor"`,
				"CONFIG_EXTRA_FIRMWARE": `""`,
				"CONFIG_NEGATIVE":       "-42",
				"CONFIG_ESCAPED":        `"a \"quoted\" back\\slash"`,
			},
		},
		{
			name:   "gzip",
			input:  gzipped(t, string(basic)),
			filter: names("CONFIG_HZ", "CONFIG_KPROBES"),
			want:   map[string]string{"CONFIG_HZ": "250", "CONFIG_KPROBES": "n"},
		},
		{
			name:   "nil filter returns all",
			input:  []byte("CONFIG_A=y\n# CONFIG_B is not set\n# comment\n\nCONFIG_C=3\r\n"),
			filter: nil,
			want:   map[string]string{"CONFIG_A": "y", "CONFIG_B": "n", "CONFIG_C": "3"},
		},
		{
			name:   "empty filter reads nothing",
			input:  []byte("garbage without = on a CONFIG_ line\nCONFIG_X\n"),
			filter: names(),
			want:   map[string]string{},
		},
		{
			name:   "stops once all names are found",
			input:  []byte("CONFIG_A=y\nCONFIG_BROKEN\n"),
			filter: names("CONFIG_A"),
			want:   map[string]string{"CONFIG_A": "y"},
		},
		{
			name:   "comment resembling the unset marker",
			input:  []byte("# CONFIG_A and CONFIG_B is not set\n"),
			filter: nil,
			want:   map[string]string{},
		},
		{
			name:   "no trailing newline",
			input:  []byte("CONFIG_A=y"),
			filter: names("CONFIG_A"),
			want:   map[string]string{"CONFIG_A": "y"},
		},
		{
			name:   "empty input",
			input:  nil,
			filter: names("CONFIG_A"),
			want:   map[string]string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(bytes.NewReader(tc.input), tc.filter)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.CmpEquals(got, tc.want))
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input []byte
		want  string
	}{
		{"no separator", []byte("CONFIG_A=y\nCONFIG_B\n"), `line 2: "CONFIG_B": no '=' after the name`},
		{"no value", []byte("CONFIG_B=\n"), "line 1: CONFIG_B: no value"},
		{"unterminated string", []byte(`CONFIG_S="abc` + "\n"), `line 1: CONFIG_S: string "\"abc": not enclosed in double quotes`},
		{"quote inside string", []byte(`CONFIG_S="a"b"` + "\n"), `unescaped '"' inside`},
		{"dangling escape", []byte(`CONFIG_S="a\"` + "\n"), "ends inside an escape"},
		{"line too long", []byte("CONFIG_S=\"" + strings.Repeat("x", maxLineLen) + "\"\n"), "line 1: longer than 65536 bytes"},
		{"bad gzip header", []byte{0x1f, 0x8b, 0, 0}, "gzip:"},
		{"truncated gzip", gzipped(t, "CONFIG_A=y\n")[:20], "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(bytes.NewReader(tc.input), names("CONFIG_S", "CONFIG_Z"))
			qt.Assert(t, qt.ErrorMatches(err, `kernel config: .*`+regexpQuote(tc.want)+`.*`))
		})
	}
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func TestParseTooLarge(t *testing.T) {
	// A gzip stream of a few hundred KiB that decompresses past the limit
	// must be refused rather than read to the end.
	line := "# " + strings.Repeat("padding ", 100) + "\n"
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	for written := 0; written <= maxConfigSize; written += len(line) {
		io.WriteString(zw, line)
	}
	qt.Assert(t, qt.IsNil(zw.Close()))

	_, err := Parse(&buf, names("CONFIG_A"))
	qt.Assert(t, qt.ErrorMatches(err, "kernel config: larger than 67108864 bytes"))
}

func TestFindIn(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "config-missing")
	present := filepath.Join(dir, "config.gz")
	qt.Assert(t, qt.IsNil(os.WriteFile(present, gzipped(t, "CONFIG_HZ=100\n"), 0o644)))

	f, err := findIn(missing, present)
	qt.Assert(t, qt.IsNil(err))
	defer f.Close()
	got, err := Parse(f, names("CONFIG_HZ"))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(got, map[string]string{"CONFIG_HZ": "100"}))

	_, err = findIn(missing)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.ErrorMatches(err, `kernel config: none of \[".*config-missing"\] exists: file does not exist`))
}

// TestParseKernel reads the running kernel's config. Kernels built without
// CONFIG_IKCONFIG_PROC and without a /boot config have none; then the
// error must say so through os.ErrNotExist.
func TestParseKernel(t *testing.T) {
	got, err := ParseKernel(names("CONFIG_BPF_SYSCALL", "CONFIG_HZ"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("kernel config not available (no /boot/config-$(uname -r), no CONFIG_IKCONFIG_PROC):", err)
	}
	qt.Assert(t, qt.IsNil(err))
	// bpf(2) works on every machine these tests run on.
	qt.Assert(t, qt.Equals(got["CONFIG_BPF_SYSCALL"], "y"))
	var hz [4]byte
	qt.Assert(t, qt.IsNil(PutValue(hz[:], Type{Kind: Int, Size: 4, Signed: true}, got["CONFIG_HZ"], internal.NativeEndian)), qt.Commentf("CONFIG_HZ=%s", got["CONFIG_HZ"]))

	empty, err := ParseKernel(names())
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(empty, 0))
}

func TestParseAllocs(t *testing.T) {
	basic, err := os.ReadFile("testdata/basic.config")
	qt.Assert(t, qt.IsNil(err))
	big := bytes.Repeat(basic, 500)
	filter := names("CONFIG_MISSING")

	// Lines of names nobody asked for must cost nothing: the allocations
	// of a 10,000-line config are those of a 20-line one.
	count := func(input []byte) float64 {
		return testing.AllocsPerRun(10, func() {
			if _, err := Parse(bytes.NewReader(input), filter); err != nil {
				t.Fatal(err)
			}
		})
	}
	qt.Assert(t, qt.Equals(count(big), count(basic)))
}

func BenchmarkParse(b *testing.B) {
	basic, err := os.ReadFile("testdata/basic.config")
	qt.Assert(b, qt.IsNil(err))
	// About the size of a distribution kernel's config.
	text := bytes.Repeat(basic, 500)
	plain := append(text, "CONFIG_LAST=y\n"...)
	compressed := gzipped(b, string(plain))
	filter := names("CONFIG_LAST", "CONFIG_HZ")

	for _, bc := range []struct {
		name  string
		input []byte
	}{{"plain", plain}, {"gzip", compressed}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(plain)))
			for b.Loop() {
				if _, err := Parse(bytes.NewReader(bc.input), filter); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.config")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		qt.Assert(f, qt.IsNil(err))
		f.Add(data)
	}
	f.Add(gzipped(f, "CONFIG_A=y\n"))

	types := []Type{
		{Kind: Bool, Size: 1},
		{Kind: Tristate, Size: 4},
		{Kind: Char, Size: 1},
		{Kind: CharArray, Size: 16},
		{Kind: Int, Size: 1, Signed: true},
		{Kind: Int, Size: 8},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		values, err := Parse(bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		for _, value := range values {
			for _, typ := range types {
				buf := make([]byte, typ.Size)
				PutValue(buf, typ, value, internal.NativeEndian)
			}
		}
	})
}
