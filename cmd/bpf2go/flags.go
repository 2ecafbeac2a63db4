package main

import (
	"errors"
	"flag"
	"fmt"
	"go/build/constraint"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bpfkit/ebpf/cmd/bpf2go/gen"
)

const usage = `Usage: %[1]s [options] <ident> <source file>... [-- <C flags>]

bpf2go compiles a C file to BPF with clang and writes Go bindings that embed
the object: for each target, <stem>_<target>.go and <stem>_<target>.o in the
output directory (stem: -output-stem, or ident in lower case). Several C
files are compiled one by one and linked into that one object, as bpftool
gen object links them (extern functions, variables and maps resolve across
the files).

ident starts every name the bindings declare (bpfObjects, loadBpfObjects, ...)
and must be a Go identifier; if it is exported, so are the load functions.

C flags come from -cflags (or $BPF2GO_CFLAGS, where "double" or 'single'
quotes group words) followed by the arguments after "--", so the latter win.
-O2 and -mcpu=v1 come first and can be overridden.

Run it from go generate, which sets $GOPACKAGE and $GOFILE:

	//go:generate go tool bpf2go -tags linux bpf prog.c -- -I./headers

Options (environment variables give some defaults):

`

// cliError is a mistake on the command line: main prints the usage hint
// with it.
type cliError struct{ error }

func (e cliError) Unwrap() error { return e.error }

// target is one target to build and the architectures it is for.
type target struct {
	gen.Target
	arches gen.GoArches
}

// options is a parsed command line.
type options struct {
	verbose bool
	// identStem is the Go name stem, outputStem the file name stem.
	identStem, outputStem, outputSuffix string
	pkg, outputDir                      string
	// sources are the C files, absolute; several are linked into one
	// object (build.go).
	sources []string
	targets []target
	// cc is the compiler as given by -cc or $BPF2GO_CC, empty to search.
	cc, strip        string
	disableStripping bool
	cFlags           []string
	cTypes           []string
	skipGlobalTypes  bool
	tags             constraint.Expr
	makeBase         string
}

func getEnv(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func parseArgs(out io.Writer, args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bpf2go", flag.ContinueOnError)
	fs.SetOutput(out)
	verbose, _ := strconv.ParseBool(os.Getenv("V"))
	fs.BoolVar(&o.verbose, "verbose", verbose, "print what is written ($V)")
	fs.StringVar(&o.cc, "cc", getEnv("BPF2GO_CC", ""),
		"`binary` compiling C to BPF, may include leading arguments such as \"ccache clang\" ($BPF2GO_CC)\n(default: clang, else the newest clang-N in $PATH)")
	fs.StringVar(&o.strip, "strip", getEnv("BPF2GO_STRIP", ""),
		"`binary` stripping DWARF from the object ($BPF2GO_STRIP)\n(default: llvm-strip with the compiler's version suffix)")
	fs.BoolVar(&o.disableStripping, "no-strip", false, "keep DWARF in the object")
	cflags := fs.String("cflags", getEnv("BPF2GO_CFLAGS", ""),
		"`flags` for the compiler, may contain quoted arguments ($BPF2GO_CFLAGS)")
	tags := fs.String("tags", "", "Go build `tags` the output needs, comma-separated (old +build syntax) or a //go:build expression")
	targets := fs.String("target", "bpfel,bpfeb", "comma-separated `targets` to compile for, see below")
	fs.StringVar(&o.makeBase, "makebase", getEnv("BPF2GO_MAKEBASE", ""),
		"write make dependency files with paths relative to `directory` ($BPF2GO_MAKEBASE)")
	fs.Func("type", "also declare the C type `name` in Go, may be repeated", func(name string) error {
		if !validCType.MatchString(name) {
			return fmt.Errorf("%q: a type name has only letters, digits and underscores", name)
		}
		if slices.Contains(o.cTypes, name) {
			return fmt.Errorf("duplicate type %q", name)
		}
		o.cTypes = append(o.cTypes, name)
		return nil
	})
	fs.BoolVar(&o.skipGlobalTypes, "no-global-types", false, "don't declare the types of map keys, map values and global variables")
	fs.StringVar(&o.outputStem, "output-stem", "", "`stem` of the output file names (default: ident in lower case)")
	defSuffix := ""
	if strings.HasSuffix(os.Getenv("GOFILE"), "_test.go") {
		defSuffix = "_test"
	}
	fs.StringVar(&o.outputSuffix, "output-suffix", defSuffix,
		"`suffix` of the output file names, such as _test (default: _test when $GOFILE is a test file)")
	fs.StringVar(&o.outputDir, "output-dir", "", "`directory` to write to (default: the current directory)")
	fs.StringVar(&o.pkg, "go-package", "", "Go `package` of the output (default: $GOPACKAGE)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), usage, fs.Name())
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nTargets: %s, native (this machine's GOARCH).\n", strings.Join(gen.TargetNames(), ", "))
		fmt.Fprintln(fs.Output(), "bpfel and bpfeb are for every GOARCH of their byte order; bpf for the machine's byte order without a build constraint; a GOARCH defines __TARGET_ARCH_<arch> for bpf_tracing.h.")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}

	slices.Sort(o.cTypes)
	if o.outputDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		o.outputDir = wd
	}
	if o.pkg == "" {
		o.pkg = os.Getenv("GOPACKAGE")
	}
	if o.pkg == "" {
		return nil, cliError{errors.New("no Go package: run bpf2go from go generate, which sets $GOPACKAGE, or pass -go-package")}
	}

	positional, extra := splitCFlagsFromArgs(fs.Args())
	if *cflags != "" {
		split, err := splitArguments(*cflags)
		if err != nil {
			return nil, cliError{fmt.Errorf("-cflags: %w", err)}
		}
		extra = append(split, extra...)
	}
	for _, f := range extra {
		if strings.HasPrefix(f, "-M") {
			return nil, cliError{fmt.Errorf("C flag %q: use -makebase to write dependency files", f)}
		}
	}
	o.cFlags = extra

	if len(positional) < 2 {
		return nil, cliError{errors.New("expected two arguments: the identifier stem and the C source file")}
	}
	o.identStem = positional[0]
	for _, src := range positional[1:] {
		abs, err := filepath.Abs(src)
		if err != nil {
			return nil, err
		}
		o.sources = append(o.sources, abs)
	}
	if o.makeBase != "" {
		abs, err := filepath.Abs(o.makeBase)
		if err != nil {
			return nil, err
		}
		o.makeBase = abs
	}
	if strings.ContainsRune(o.outputStem, filepath.Separator) {
		return nil, cliError{fmt.Errorf("-output-stem %q: must not contain %q", o.outputStem, filepath.Separator)}
	}
	if strings.ContainsRune(o.outputSuffix, filepath.Separator) {
		return nil, cliError{fmt.Errorf("-output-suffix %q: must not contain %q", o.outputSuffix, filepath.Separator)}
	}
	if *tags != "" {
		expr, err := parseTags(*tags)
		if err != nil {
			return nil, cliError{fmt.Errorf("-tags %q: %w", *tags, err)}
		}
		o.tags = expr
	}

	seen := map[gen.Target]bool{}
	for _, id := range strings.Split(*targets, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		tgt, arches, err := gen.FindTarget(id)
		if err != nil {
			return nil, cliError{fmt.Errorf("-target: %w (known: %s, native)", err, strings.Join(gen.TargetNames(), ", "))}
		}
		if !seen[tgt] {
			seen[tgt] = true
			o.targets = append(o.targets, target{tgt, arches})
		}
	}
	if len(o.targets) == 0 {
		return nil, cliError{errors.New("-target: no targets given")}
	}
	slices.SortFunc(o.targets, func(a, b target) int { return strings.Compare(a.Suffix(), b.Suffix()) })
	return o, nil
}

var validCType = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// parseTags reads -tags: "a,b c" in the +build syntax (comma is and, space
// is or) that bpf2go has always taken, or a //go:build expression.
func parseTags(s string) (constraint.Expr, error) {
	if strings.ContainsAny(s, "&|()") {
		return constraint.Parse("//go:build " + s)
	}
	return constraint.Parse("// +build " + s)
}

// splitCFlagsFromArgs splits positional arguments from the C flags after
// the first "--".
func splitCFlagsFromArgs(args []string) (positional, cflags []string) {
	if i := slices.Index(args, "--"); i >= 0 {
		return args[:i], args[i+1:]
	}
	return args, nil
}

// splitArguments splits s at spaces into words, as a shell would without
// expansions: "double" and 'single' quotes group words (an empty quoted
// word is kept) and a backslash takes the next character literally.
func splitArguments(s string) ([]string, error) {
	var (
		words  []string
		word   strings.Builder
		inWord bool
		quote  rune
		escape bool
	)
	for _, r := range s {
		switch {
		case escape:
			word.WriteRune(r)
			escape = false
		case r == '\\':
			escape, inWord = true, true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("missing closing %c", quote)
	}
	if escape {
		return nil, errors.New("backslash at the end")
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}
