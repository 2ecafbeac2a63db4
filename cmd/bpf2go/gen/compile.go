package gen

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// CompileArgs says how to compile one C file to one BPF object.
type CompileArgs struct {
	// CC is the compiler to run (a name looked up in $PATH, or a path).
	CC string
	// Strip is the llvm-strip that removes DWARF from the object.
	Strip string
	// Flags go to the compiler before bpf2go's own. Leading arguments that
	// don't start with "-" stay first, so that CC can be a wrapper such
	// as ccache with the real compiler as its first argument.
	Flags []string
	// Workdir is the absolute directory the compiler runs in.
	Workdir string
	// Source is the absolute path of the C file.
	Source string
	// Dest is the absolute path of the object to write.
	Dest string
	// Target to compile for; the zero Target is generic BPF in the host's
	// byte order.
	Target Target
	// DisableStripping keeps DWARF in the object.
	DisableStripping bool
	// Stderr receives the compiler's warnings when it succeeds (its
	// output is part of the error when it fails). Nil discards them.
	Stderr io.Writer
}

// defaultFlags can be overridden by the user's flags, which come after
// them: clang takes the last -O and -mcpu.
var defaultFlags = []string{
	// The verifier understands optimised code far better.
	"-O2",
	// clang's default is to probe the CPU of the machine it runs on,
	// which says nothing about the kernels the object will meet: v1
	// loads everywhere.
	"-mcpu=v1",
}

// targetMissing replaces bpf_tracing.h's message for code that uses
// architecture-specific macros (PT_REGS_PARM1 and friends) while compiling
// for a generic target.
const targetMissing = `GCC error "this code reads registers of an architecture: give bpf2go -target an architecture (amd64, arm64, ...) instead of bpf, bpfel or bpfeb"`

// compilerArgs returns the full argument list for the compiler.
func (args *CompileArgs) compilerArgs() ([]string, error) {
	relDir, err := filepath.Rel(args.Workdir, filepath.Dir(args.Source))
	if err != nil {
		return nil, err
	}
	positional := 0
	for positional < len(args.Flags) && !strings.HasPrefix(args.Flags[positional], "-") {
		positional++
	}
	out := append([]string(nil), args.Flags[:positional]...)
	out = append(out, defaultFlags...)
	out = append(out, args.Flags[positional:]...)
	if linux := args.Target.Linux(); linux != "" {
		out = append(out, "-D__TARGET_ARCH_"+linux)
	}
	out = append(out,
		// Warn about flags that do nothing for BPF.
		"-Wunused-command-line-argument",
		"-target", args.Target.Clang(),
		"-c", args.Source,
		"-o", args.Dest,
		// Keep the compiler's version out of the object.
		"-fno-ident",
		// Record source paths relative to the working directory, so
		// that the object is the same wherever the tree is checked out.
		"-fdebug-prefix-map="+filepath.Dir(args.Source)+"="+relDir,
		"-fdebug-compilation-dir", ".",
		// BTF comes from debug information.
		"-g",
		"-D__BPF_TARGET_MISSING="+strconv.Quote(targetMissing),
	)
	return out, nil
}

// Compile compiles args.Source to args.Dest and, unless disabled, strips
// DWARF from it (BTF stays). A failing compiler's output is part of the
// error.
func Compile(args CompileArgs) error {
	argv, err := args.compilerArgs()
	if err != nil {
		return err
	}
	if err := runTool(args.Workdir, args.Stderr, args.CC, argv...); err != nil {
		return err
	}
	if args.DisableStripping {
		return nil
	}
	if err := runTool(args.Workdir, args.Stderr, args.Strip, "-g", args.Dest); err != nil {
		return fmt.Errorf("strip DWARF from %s: %w", args.Dest, err)
	}
	return nil
}

// runTool runs name with args in dir. On failure the error carries what
// the tool printed; on success its output goes to stderr.
func runTool(dir string, stderr io.Writer, name string, args ...string) error {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimRight(out.String(), "\n")
		if msg == "" {
			return fmt.Errorf("%s: %w", name, err)
		}
		return fmt.Errorf("%s: %w:\n%s", name, err, msg)
	}
	if stderr != nil && out.Len() > 0 {
		_, err := stderr.Write(out.Bytes())
		return err
	}
	return nil
}
