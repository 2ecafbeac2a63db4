package kallsyms

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

const synthetic = `ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff81382730 T __x64_sys_getpid
ffffffff814e6170 T bpf_prog_put
ffffffff81500000 t helper_dup
ffffffff81600000 t helper_dup
ffffffff81700000 t static_alias
ffffffff81700000 t static_alias
ffffffff82000000 d counter.llvm.1234567890
ffffffff82100000 D bpf_prog_active
ffffffffc0201000 t ftrace_trampoline	[__builtin__ftrace]
ffffffffc0025dc0 t bpf_dispatcher_xdp	[bpf]
ffffffffc1682010 T nf_nat_init	[nf_nat]
ffffffffc1682020 T bpf_prog_put	[fake_mod]
`

func TestParseLine(t *testing.T) {
	type result struct {
		Addr   uint64
		Kind   byte
		Name   string
		Module string
	}
	for _, tc := range []struct {
		line string
		want result
	}{
		{"ffffffff81000000 T _stext\n", result{0xffffffff81000000, 'T', "_stext", ""}},
		{"ffffffffc1682010 t nf_nat_init\t[nf_nat]\n", result{0xffffffffc1682010, 't', "nf_nat_init", "nf_nat"}},
		{"0000000000000000 T hidden", result{0, 'T', "hidden", ""}},
		{"c0100000 T arm32", result{0xc0100000, 'T', "arm32", ""}},
		{"FFFF0000 D upper", result{0xffff0000, 'D', "upper", ""}},
		{"ffffffff81000000 t foo.cold\n", result{0xffffffff81000000, 't', "foo.cold", ""}},
	} {
		var sym symbol
		qt.Assert(t, qt.IsNil(parseLine([]byte(tc.line), &sym)), qt.Commentf("%q", tc.line))
		got := result{sym.addr, sym.kind, string(sym.name), string(sym.module)}
		qt.Assert(t, qt.Equals(got, tc.want))
	}

	for _, tc := range []struct{ line, want string }{
		{"\n", "no address"},
		{"ffffffff81000000\n", "no address"},
		{"0ffffffff81000000 T too_long_addr", "no address"},
		{"xyz T name", "address is not hexadecimal"},
		{"ffffffff81000000 T", "no type and name"},
		{"ffffffff81000000 T \n", "no type and name"},
		{"ffffffff81000000 TT name", "no type and name"},
		{"ffffffff81000000  T name", "no type and name"},
		{"ffffffff81000000 T name\tnf_nat", "module is not in brackets"},
		{"ffffffff81000000 T name\t[]", "module is not in brackets"},
		{"ffffffff81000000 T \t[mod]", "bad symbol name"},
		{"ffffffff81000000 T a b", "bad symbol name"},
	} {
		var sym symbol
		qt.Assert(t, qt.ErrorMatches(parseLine([]byte(tc.line), &sym), `.*: `+tc.want), qt.Commentf("%q", tc.line))
	}
}

func TestScanErrors(t *testing.T) {
	err := scan(strings.NewReader("ffffffff81000000 T ok\nbroken\n"), func(*symbol) bool { return false })
	qt.Assert(t, qt.ErrorMatches(err, `kallsyms: line 2: "broken": no address`))

	long := "ffffffff81000000 T " + strings.Repeat("x", bufferSize) + "\n"
	err = scan(strings.NewReader(long), func(*symbol) bool { return false })
	qt.Assert(t, qt.ErrorMatches(err, `kallsyms: line 1: longer than 65536 bytes`))

	// A broken line after the last one asked for is never read.
	var n int
	err = scan(strings.NewReader("ffffffff81000000 T ok\nbroken\n"), func(*symbol) bool { n++; return true })
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(n, 1))
}

func TestAssignAddresses(t *testing.T) {
	symbols := map[string]uint64{
		"bpf_prog_put":     0,
		"__x64_sys_getpid": 0,
		"static_alias":     0,
		"counter":          0,
		"bpf_prog_active":  0,
		"nf_nat_init":      0,
	}
	err := assignAddresses(strings.NewReader(synthetic), symbols)
	// bpf_prog_put appears in the kernel and in fake_mod.
	qt.Assert(t, qt.ErrorIs(err, ErrAmbiguous))
	qt.Assert(t, qt.ErrorMatches(err, `kallsyms: bpf_prog_put \(0xffffffff814e6170 and 0xffffffffc1682020\): symbol has more than one address`))

	delete(symbols, "bpf_prog_put")
	symbols["missing_b"] = 7
	symbols["missing_a"] = 0
	err = assignAddresses(strings.NewReader(synthetic), symbols)
	var nfe *NotFoundError
	qt.Assert(t, qt.ErrorAs(err, &nfe))
	qt.Assert(t, qt.DeepEquals(nfe.Symbols, []string{"missing_a", "missing_b"}))
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.ErrorMatches(err, "kallsyms: no symbol missing_a, missing_b"))
	qt.Assert(t, qt.DeepEquals(symbols, map[string]uint64{
		"__x64_sys_getpid": 0xffffffff81382730,
		"static_alias":     0xffffffff81700000,
		"counter":          0xffffffff82000000,
		"bpf_prog_active":  0xffffffff82100000,
		"nf_nat_init":      0xffffffffc1682010,
		"missing_a":        0,
		"missing_b":        7,
	}))

	err = assignAddresses(strings.NewReader(synthetic), map[string]uint64{"helper_dup": 0, "bpf_prog_put": 0})
	qt.Assert(t, qt.ErrorMatches(err, `kallsyms: bpf_prog_put \(.*\), helper_dup \(0xffffffff81500000 and 0xffffffff81600000\): .*`))
}

func TestAssignAddressesRestricted(t *testing.T) {
	var restricted strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(synthetic), "\n") {
		restricted.WriteString(strings.Repeat("0", 16) + line[16:] + "\n")
	}

	symbols := map[string]uint64{"__x64_sys_getpid": 1, "bpf_prog_put": 1, "missing": 1}
	err := assignAddresses(strings.NewReader(restricted.String()), symbols)
	qt.Assert(t, qt.ErrorIs(err, ErrRestrictedKernel))
	qt.Assert(t, qt.DeepEquals(symbols, map[string]uint64{"__x64_sys_getpid": 0, "bpf_prog_put": 0, "missing": 1}))

	// A symbol at address zero on a kernel that shows addresses is not a
	// restriction (x86 per-CPU symbols start at zero).
	symbols = map[string]uint64{"fixed_percpu_data": 1}
	err = assignAddresses(strings.NewReader("0000000000000000 A fixed_percpu_data\n"+synthetic), symbols)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(symbols, map[string]uint64{"fixed_percpu_data": 0}))
}

func TestAssignModulesFromReader(t *testing.T) {
	symbols := map[string]string{
		"bpf_prog_put":       "x",
		"nf_nat_init":        "x",
		"bpf_dispatcher_xdp": "x",
		"missing":            "x",
	}
	found := map[string]bool{}
	err := assignModules(strings.NewReader(synthetic), symbols, found)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.ErrorMatches(err, "kallsyms: no symbol missing"))
	qt.Assert(t, qt.DeepEquals(symbols, map[string]string{
		"bpf_prog_put":       "", // the kernel image's comes first
		"nf_nat_init":        "nf_nat",
		"bpf_dispatcher_xdp": "bpf",
		"missing":            "x",
	}))
	qt.Assert(t, qt.DeepEquals(found, map[string]bool{"bpf_prog_put": true, "nf_nat_init": true, "bpf_dispatcher_xdp": true}))

	// Stops at the last name it needs: the broken line is never read.
	symbols = map[string]string{"_text": "x"}
	err = assignModules(strings.NewReader(synthetic+"broken\n"), symbols, map[string]bool{})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(symbols, map[string]string{"_text": ""}))
}

// requireAddresses skips unless /proc/kallsyms shows addresses to this
// process.
func requireAddresses(tb testing.TB) {
	tb.Helper()
	err := AssignAddresses(map[string]uint64{"_text": 0})
	if errors.Is(err, ErrRestrictedKernel) {
		tb.Skip("kernel hides addresses in /proc/kallsyms (kptr_restrict, or no CAP_SYSLOG):", err)
	}
	qt.Assert(tb, qt.IsNil(err))
}

// syscallSymbol is a symbol every kernel the tests run on has.
func syscallSymbol() string {
	if runtime.GOARCH == "amd64" {
		return "__x64_sys_getpid"
	}
	return "bpf_prog_put"
}

func TestKernel(t *testing.T) {
	requireAddresses(t)

	symbols := map[string]uint64{syscallSymbol(): 0, "bpf_prog_put": 0}
	qt.Assert(t, qt.IsNil(AssignAddresses(symbols)))
	for name, addr := range symbols {
		qt.Assert(t, qt.Not(qt.Equals(addr, 0)), qt.Commentf("%s", name))
	}

	owner, err := Module("bpf_prog_put")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(owner, ""))

	_, err = Module("bpfkit_no_such_symbol")
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))

	// The answer is now cached and needs no read.
	modules := map[string]string{"bpf_prog_put": "x"}
	allocs := testing.AllocsPerRun(5, func() {
		if err := AssignModules(modules); err != nil {
			t.Fatal(err)
		}
	})
	qt.Assert(t, qt.Equals(modules["bpf_prog_put"], ""))
	qt.Assert(t, qt.IsTrue(allocs <= 2), qt.Commentf("allocs: %v", allocs))
}

func TestKernelModules(t *testing.T) {
	// Find a module symbol in the running kernel, if any module (or the
	// bpf pseudo-module of loaded programs) is there.
	data, err := os.ReadFile(Path)
	qt.Assert(t, qt.IsNil(err))
	var name, module string
	for line := range strings.SplitSeq(string(data), "\n") {
		var sym symbol
		if line == "" || parseLine([]byte(line), &sym) != nil || sym.module == nil {
			continue
		}
		if strings.Count(string(data), " "+string(sym.name)+"\t") == 1 && !strings.Contains(string(data), " "+string(sym.name)+"\n") {
			name, module = string(sym.name), string(sym.module)
			break
		}
	}
	if name == "" {
		t.Skip("no symbol owned by a module in /proc/kallsyms")
	}
	got, err := Module(name)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(got, module), qt.Commentf("%s", name))
}

func syntheticKallsyms(lines int) []byte {
	var buf bytes.Buffer
	for i := range lines {
		fmt.Fprintf(&buf, "%016x %c sym_%d_some_function_name\n", 0xffffffff81000000+uint64(i)*16, "Tt"[i%2], i)
	}
	buf.WriteString("ffffffffc1682010 T last_symbol\t[some_module]\n")
	return buf.Bytes()
}

func BenchmarkAssignAddresses(b *testing.B) {
	data := syntheticKallsyms(120_000)
	symbols := map[string]uint64{"sym_100_some_function_name": 0, "last_symbol": 0}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := assignAddresses(bytes.NewReader(data), symbols); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAssignModules(b *testing.B) {
	data := syntheticKallsyms(120_000)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		symbols := map[string]string{"last_symbol": ""}
		if err := assignModules(bytes.NewReader(data), symbols, map[string]bool{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKernel(b *testing.B) {
	requireAddresses(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := AssignAddresses(map[string]uint64{"bpf_prog_put": 0}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte(synthetic))
	seeds, _ := filepath.Glob("testdata/*")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		qt.Assert(f, qt.IsNil(err))
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		addrs := map[string]uint64{"bpf_prog_put": 0, "a": 0}
		_ = assignAddresses(bytes.NewReader(data), addrs)
		mods := map[string]string{"bpf_prog_put": "", "a": ""}
		_ = assignModules(bytes.NewReader(data), mods, map[string]bool{})
	})
}
