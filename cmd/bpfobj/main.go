package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bpfkit/ebpf"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usageText = `Usage:
  bpfobj [-json] [-d] [-types] [-v]       show, load and run the embedded default object
  bpfobj [show] [-json] [-d] [-types] FILE.o
  bpfobj load [-json] [-prog NAME] [-v] FILE.o
  bpfobj run [-json] [-data HEX|@FILE] [-ctx HEX] [-repeat N] [-v] FILE.o PROG
  bpfobj link -o OUT.o IN.o...
  bpfobj btf [-format c] [-o FILE] FILE|vmlinux
  bpfobj btf -min-core -o OUT.btf [-json] FILE|vmlinux OBJ.o...
  bpfobj map dump [-json] ID|PIN

show   the object's maps, programs and global variables (no privileges needed)
         -d      disassemble, with source lines from BTF line info
         -types  print the object's BTF types as Go declarations
load   load the object into the kernel and print verifier statistics (root)
         -prog   load only this program (and the maps)
         -v      print the whole verifier log when the verifier rejects a program
run    load the object and run PROG with BPF_PROG_TEST_RUN (root)
         -data   input data as hex, or @FILE to read it from FILE; packet
                 programs get a 64-byte sample packet by default
         -ctx    context as hex (a struct __sk_buff, xdp_md, syscall argument...)
         -repeat run the program N times (default 1)
link   link objects into one, as bpftool gen object does (no privileges needed)
btf    print FILE's BTF (an object, raw BTF, or the running kernel's with
       "vmlinux") as a C header, as bpftool btf dump format c does
         -o      write it to a file
         -min-core  write to -o the part of FILE's BTF that the CO-RE
                 relocations of the objects need (bpftool gen min_core_btf)
map dump print the entries of a loaded map (by ID or pinned path), decoded
       through its BTF, per CPU for per-CPU maps (root)
-json  print one JSON document (see report.go for the schema)

Exit status: 0 success, 1 failure, 2 bad usage.
`

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (ue *usageError) Error() string { return ue.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// options are the flags of all subcommands; each subcommand registers the
// ones it accepts.
type options struct {
	json    bool
	disasm  bool
	types   bool
	verbose bool
	prog    string
	data    string
	ctx     string
	repeat  uint
}

// run is the whole command, callable from tests: it parses args (without
// the program name), writes the output to stdout and errors to stderr, and
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	// -json may also come before the subcommand.
	leadingJSON := false
	for len(args) > 0 && (args[0] == "-json" || args[0] == "--json") {
		leadingJSON, args = true, args[1:]
	}
	if len(args) > 0 {
		// Subcommands with flags and reports of their own.
		switch args[0] {
		case "btf":
			return runBTF(args[1:], leadingJSON, stdout, stderr)
		case "map":
			return runMap(args[1:], leadingJSON, stdout, stderr)
		}
	}
	cmd := "default"
	if len(args) > 0 && args[0] == "link" {
		return runLink(args[1:], stdout, stderr)
	}
	if len(args) > 0 {
		switch args[0] {
		case "show", "load", "run":
			cmd, args = args[0], args[1:]
		case "help", "-h", "-help", "--help":
			io.WriteString(stdout, usageText)
			return exitOK
		}
	}

	opts := options{json: leadingJSON}
	fs := newFlagSet(cmd, &opts)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usage(stderr, err)
	}

	var report Report
	switch cmd {
	case "default":
		if len(pos) == 1 {
			// "bpfobj FILE.o" is "bpfobj show FILE.o".
			cmd = "show"
			if opts.verbose {
				return usage(stderr, usagef("-v applies to load and run"))
			}
			err = show(&report, pos[0], opts)
			break
		}
		if len(pos) > 1 {
			return usage(stderr, usagef("too many arguments: %s", strings.Join(pos, " ")))
		}
		err = demo(&report, stdout, opts)
	case "show":
		if len(pos) != 1 {
			return usage(stderr, usagef("show needs one FILE.o"))
		}
		err = show(&report, pos[0], opts)
	case "load":
		if len(pos) != 1 {
			return usage(stderr, usagef("load needs one FILE.o"))
		}
		err = load(&report, pos[0], opts)
	case "run":
		if len(pos) != 2 {
			return usage(stderr, usagef("run needs FILE.o and PROG"))
		}
		if opts.repeat == 0 || opts.repeat > 1<<31 {
			return usage(stderr, usagef("-repeat must be between 1 and %d", uint64(1)<<31))
		}
		err = runProgram(&report, pos[0], pos[1], opts)
	}

	var ue *usageError
	if errors.As(err, &ue) {
		return usage(stderr, err)
	}
	if err != nil {
		report.Error = err.Error()
	}

	if opts.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(&report); err != nil {
			fmt.Fprintf(stderr, "bpfobj: %v\n", err)
			return exitFailure
		}
	} else if cmd != "default" {
		// The demo prints as it goes; the others print their report.
		writeReport(stdout, cmd, &report)
	}

	if err != nil {
		fmt.Fprintf(stderr, "bpfobj %s: %v\n", cmdName(cmd), err)
		return exitFailure
	}
	return exitOK
}

func cmdName(cmd string) string {
	if cmd == "default" {
		return "(default object)"
	}
	return cmd
}

func usage(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "bpfobj: %v\n\n%s", err, usageText)
	return exitUsage
}

// newFlagSet registers the flags subcommand cmd accepts.
func newFlagSet(cmd string, opts *options) *flag.FlagSet {
	fs := flag.NewFlagSet("bpfobj "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&opts.json, "json", opts.json, "")
	switch cmd {
	case "default":
		fs.BoolVar(&opts.disasm, "d", false, "")
		fs.BoolVar(&opts.types, "types", false, "")
		fs.BoolVar(&opts.verbose, "v", false, "")
	case "show":
		fs.BoolVar(&opts.disasm, "d", false, "")
		fs.BoolVar(&opts.types, "types", false, "")
	case "load":
		fs.StringVar(&opts.prog, "prog", "", "")
		fs.BoolVar(&opts.verbose, "v", false, "")
	case "run":
		fs.StringVar(&opts.data, "data", "", "")
		fs.StringVar(&opts.ctx, "ctx", "", "")
		fs.UintVar(&opts.repeat, "repeat", 1, "")
		fs.BoolVar(&opts.verbose, "v", false, "")
	}
	return fs
}

// parseInterspersed parses flags wherever they are among the positional
// arguments ("bpfobj run FILE.o PROG -repeat 10"); after "--" everything is
// positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return append(pos, rest...), nil
}

func writeReport(w io.Writer, cmd string, r *Report) {
	if cmd == "show" && r.Object != nil {
		writeObject(w, r.Object)
	}
	if r.Load != nil {
		writeLoad(w, r.Object.File, r.Load)
	}
	for _, rr := range r.Run {
		fmt.Fprintln(w)
		writeRun(w, rr)
	}
	if r.Note != "" {
		fmt.Fprintf(w, "note: %s\n", r.Note)
	}
}

// elfMagic starts every ELF file.
var elfMagic = []byte("\x7fELF")

// maxObjectSize bounds the object files read: BPF objects are small, and a
// mistaken argument (a disk image) shouldn't be read into memory.
const maxObjectSize = 256 << 20

// readObject reads an object file's spec, with errors that say what's wrong
// with the file.
func readObject(file string) (*ebpf.CollectionSpec, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", file)
	}
	if fi.Size() > maxObjectSize {
		return nil, fmt.Errorf("%s: %d bytes is too large for a BPF object (limit %d)", file, fi.Size(), maxObjectSize)
	}
	var magic [4]byte
	if n, _ := io.ReadFull(f, magic[:]); n < len(magic) || !bytes.Equal(magic[:], elfMagic) {
		return nil, fmt.Errorf("%s is not an ELF object file (it starts with %q); compile BPF C code with clang -target bpf -c", file, magic[:n])
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return spec, nil
}

func show(report *Report, file string, opts options) error {
	spec, err := readObject(file)
	if err != nil {
		return err
	}
	return describeInto(report, file, spec, opts)
}

func describeInto(report *Report, file string, spec *ebpf.CollectionSpec, opts options) error {
	report.Object = describe(file, spec, opts.disasm)
	if opts.types {
		if spec.Types == nil {
			return fmt.Errorf("%s has no BTF: -types needs it (compile with clang -g)", file)
		}
		types, err := goTypes(spec.Types)
		if err != nil {
			return fmt.Errorf("%s: BTF: %w", file, err)
		}
		report.Object.Types = types
	}
	return nil
}
