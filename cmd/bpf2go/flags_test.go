package main

import (
	"bytes"
	"errors"
	"go/build/constraint"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"

	"github.com/bpfkit/ebpf/cmd/bpf2go/gen"
)

func TestParseArgs(t *testing.T) {
	t.Setenv("GOPACKAGE", "mypkg")
	t.Setenv("GOFILE", "gen.go")
	for _, env := range []string{"BPF2GO_CC", "BPF2GO_CFLAGS", "BPF2GO_STRIP", "BPF2GO_MAKEBASE", "V"} {
		t.Setenv(env, "")
		os.Unsetenv(env)
	}
	wd, err := os.Getwd()
	qt.Assert(t, qt.IsNil(err))
	src := filepath.Join(wd, "prog.c")
	bpfel, elArches, _ := gen.FindTarget("bpfel")
	bpfeb, ebArches, _ := gen.FindTarget("bpfeb")
	x86, x86Arches, _ := gen.FindTarget("amd64")

	defaults := func() *options {
		return &options{
			identStem: "bpf", pkg: "mypkg", outputDir: wd,
			sources: []string{src},
			targets: []target{{bpfeb, ebArches}, {bpfel, elArches}},
		}
	}
	tags, err := constraint.Parse("//go:build linux && (a || b)")
	qt.Assert(t, qt.IsNil(err))
	tests := []struct {
		args []string
		env  map[string]string
		want func(o *options)
	}{
		{[]string{"bpf", "prog.c"}, nil, func(o *options) {}},
		{[]string{"-cc", "ccache clang-19", "-no-strip", "-target", "amd64,bpfel,386", "bpf", "prog.c", "--", "-I.", "-DX=1"}, nil, func(o *options) {
			o.cc, o.disableStripping = "ccache clang-19", true
			o.targets = []target{{bpfel, elArches}, {x86, x86Arches}}
			o.cFlags = []string{"-I.", "-DX=1"}
		}},
		{[]string{"-cflags", `-O3 "-DA=b c" -I'x y'`, "-type", "foo", "-type", "bar", "-go-package", "other", "Bpf", "prog.c", "--", "-g"},
			map[string]string{"BPF2GO_CC": "clang-18"}, func(o *options) {
				o.cc, o.pkg, o.identStem = "clang-18", "other", "Bpf"
				o.cFlags = []string{"-O3", "-DA=b c", "-Ix y", "-g"}
				o.cTypes = []string{"bar", "foo"}
			}},
		{[]string{"-tags", "linux,a linux,b", "-output-stem", "out", "-output-suffix", "_x", "-output-dir", "/tmp", "-no-global-types", "bpf", "prog.c"}, nil, func(o *options) {
			o.tags = tags
			o.outputStem, o.outputSuffix, o.outputDir, o.skipGlobalTypes = "out", "_x", "/tmp", true
		}},
		{[]string{"-tags", "linux && (a || b)", "bpf", "prog.c"}, map[string]string{"GOFILE": "gen_test.go", "V": "1", "BPF2GO_MAKEBASE": "/tmp"}, func(o *options) {
			o.tags = tags
			o.outputSuffix, o.verbose, o.makeBase = "_test", true, "/tmp"
		}},
	}
	for _, tt := range tests {
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		got, err := parseArgs(new(bytes.Buffer), tt.args)
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%q", tt.args))
		want := defaults()
		tt.want(want)
		if want.tags != nil {
			// Same meaning, maybe a different tree.
			qt.Check(t, qt.Equals(got.tags.Eval(func(tag string) bool { return tag != "b" }), want.tags.Eval(func(tag string) bool { return tag != "b" })))
			qt.Check(t, qt.Equals(got.tags.Eval(func(tag string) bool { return tag == "linux" }), false))
			got.tags, want.tags = nil, nil
		}
		qt.Check(t, qt.CmpEquals(got, want, cmp.AllowUnexported(options{}, target{}, gen.Target{})), qt.Commentf("%q", tt.args))
		for k := range tt.env {
			os.Unsetenv(k)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	t.Setenv("GOPACKAGE", "p")
	os.Unsetenv("BPF2GO_CFLAGS")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"bpf"}, "expected two arguments"},
		{[]string{"-target", "sparc", "bpf", "a.c"}, `"sparc": unsupported target`},
		{[]string{"-target", "mips64", "bpf", "a.c"}, `"mips64": unsupported target`},
		{[]string{"-target", ",", "bpf", "a.c"}, "no targets"},
		{[]string{"-type", "struct foo", "bpf", "a.c"}, "letters, digits and underscores"},
		{[]string{"-type", "a", "-type", "a", "bpf", "a.c"}, `duplicate type "a"`},
		{[]string{"-cflags", `"open`, "bpf", "a.c"}, "missing closing"},
		{[]string{"-output-stem", "a/b", "bpf", "a.c"}, "must not contain"},
		{[]string{"-tags", "a &&", "bpf", "a.c"}, "-tags"},
		{[]string{"bpf", "a.c", "--", "-MD"}, "use -makebase"},
		{[]string{"-nosuchflag", "bpf", "a.c"}, "not defined"},
	} {
		_, err := parseArgs(new(bytes.Buffer), tt.args)
		qt.Check(t, qt.ErrorMatches(err, ".*"+regexpQuote(tt.want)+".*"), qt.Commentf("%q", tt.args))
	}

	t.Setenv("GOPACKAGE", "")
	_, err := parseArgs(new(bytes.Buffer), []string{"bpf", "a.c"})
	qt.Check(t, qt.ErrorMatches(err, ".*GOPACKAGE.*-go-package.*"))
	var cli cliError
	qt.Check(t, qt.IsTrue(errors.As(err, &cli)))
}

func TestHelp(t *testing.T) {
	var stdout bytes.Buffer
	qt.Assert(t, qt.IsNil(run(&stdout, new(bytes.Buffer), []string{"-h"})))
	for _, want := range []string{"Usage: bpf2go", "-no-global-types", "BPF2GO_CFLAGS", "amd64, arm", "native"} {
		qt.Check(t, qt.StringContains(stdout.String(), want))
	}
}

func TestSplitArguments(t *testing.T) {
	for in, want := range map[string][]string{
		"":                     nil,
		"  a  b ":              {"a", "b"},
		`-DX="a b" 'c d' e\ f`: {"-DX=a b", "c d", "e f"},
		`"" x`:                 {"", "x"},
		`a"b"c`:                {"abc"},
		`'"' "'"`:              {`"`, "'"},
	} {
		got, err := splitArguments(in)
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%q", in))
		qt.Check(t, qt.DeepEquals(got, want), qt.Commentf("%q", in))
	}
	for _, bad := range []string{`"a`, `'a`, `a\`} {
		_, err := splitArguments(bad)
		qt.Check(t, qt.IsNotNil(err), qt.Commentf("%q", bad))
	}
}
