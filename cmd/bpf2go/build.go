package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/build/constraint"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/cmd/bpf2go/gen"
)

// builder turns the options into files, one target at a time.
type builder struct {
	opts           *options
	stdout, stderr io.Writer
	// cc is the compiler's path, ccArgs its leading arguments.
	cc     string
	ccArgs []string
	strip  string
	// workdir is where the compiler runs: paths in the object are
	// relative to it.
	workdir string
}

func newBuilder(opts *options, stdout, stderr io.Writer) (*builder, error) {
	for _, src := range opts.sources {
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("source file: %w", err)
		}
	}
	b := &builder{opts: opts, stdout: stdout, stderr: stderr}
	var err error
	if b.cc, b.ccArgs, err = findCompiler(opts.cc); err != nil {
		return nil, err
	}
	if !opts.disableStripping {
		if b.strip, err = findStrip(opts.strip, b.cc, b.ccArgs); err != nil {
			return nil, err
		}
	}
	if b.workdir, err = os.Getwd(); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *builder) logf(format string, args ...any) {
	if b.opts.verbose {
		fmt.Fprintf(b.stdout, format+"\n", args...)
	}
}

// convert builds the object for one target and writes its bindings (and
// dependency file).
func (b *builder) convert(tgt target) error {
	opts := b.opts
	stem := opts.outputStem
	if stem == "" {
		stem = strings.ToLower(opts.identStem)
	}
	outDir, err := filepath.Abs(opts.outputDir)
	if err != nil {
		return err
	}
	base := filepath.Join(outDir, stem+"_"+tgt.Suffix()+opts.outputSuffix)
	objFile, goFile := base+".o", base+".go"

	if err := b.removeObsolete(outDir, stem, tgt); err != nil {
		return err
	}
	deps, err := b.buildObject(tgt, objFile)
	if err != nil {
		return err
	}
	spec, err := ebpf.LoadCollectionSpec(objFile)
	if err != nil {
		return fmt.Errorf("read the compiled object: %w", err)
	}
	types, err := b.types(spec, objFile)
	if err != nil {
		return err
	}

	var out bytes.Buffer
	err = gen.Generate(gen.GenerateArgs{
		Package:     opts.pkg,
		Stem:        opts.identStem,
		Constraints: andConstraints(tgt.arches.Constraint(), opts.tags),
		Maps: slices.DeleteFunc(slices.Collect(maps.Keys(spec.Maps)), func(name string) bool {
			// .rodata, .data, .bss, .kconfig: reached through Variables.
			return strings.HasPrefix(name, ".")
		}),
		Programs:   slices.Collect(maps.Keys(spec.Programs)),
		Variables:  slices.Collect(maps.Keys(spec.Variables)),
		Types:      types,
		ObjectFile: filepath.Base(objFile),
		Output:     &out,
	})
	if err != nil {
		return fmt.Errorf("generate %s: %w", goFile, err)
	}
	if err := os.WriteFile(goFile, out.Bytes(), 0o644); err != nil {
		return err
	}
	b.logf("wrote %s and %s", objFile, goFile)

	if opts.makeBase == "" {
		return nil
	}
	// The first rule is clang's for the object; make it the Go file's,
	// which is what go generate produces.
	deps[0].target = goFile
	var buf bytes.Buffer
	if err := writeDependencies(&buf, opts.makeBase, deps); err != nil {
		return fmt.Errorf("dependency file: %w", err)
	}
	if err := os.WriteFile(goFile+".d", buf.Bytes(), 0o644); err != nil {
		return err
	}
	b.logf("wrote %s.d", goFile)
	return nil
}

// buildObject compiles the sources for tgt into dest. With -makebase it
// returns the dependencies clang found, else nil.
//
// One source is compiled straight to dest. Several are each compiled to a
// temporary object and linked into dest with ebpf.LinkObjects, the static
// linker that follows bpftool gen object; their dependencies become one
// rule for dest. The rest of convert only sees dest.
func (b *builder) buildObject(tgt target, dest string) ([]dependency, error) {
	if len(b.opts.sources) == 1 {
		return b.compile(tgt, b.opts.sources[0], dest)
	}
	tmp, err := os.MkdirTemp("", "bpf2go-link-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var (
		objects []io.ReaderAt
		deps    []dependency
		seen    = make(map[string]bool)
	)
	for i, src := range b.opts.sources {
		obj := filepath.Join(tmp, fmt.Sprintf("%d.o", i))
		d, err := b.compile(tgt, src, obj)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(obj)
		if err != nil {
			return nil, err
		}
		// Link errors name the C file, not the temporary object.
		objects = append(objects, namedObject{bytes.NewReader(data), src})
		for j, dep := range d {
			if j == 0 {
				if deps == nil {
					deps = []dependency{{target: dest}}
				}
				for _, p := range dep.prerequisites {
					if !seen[p] {
						seen[p] = true
						deps[0].prerequisites = append(deps[0].prerequisites, p)
					}
				}
				continue
			}
			if !seen["rule "+dep.target] {
				seen["rule "+dep.target] = true
				deps = append(deps, dep)
			}
		}
	}
	linked, err := ebpf.LinkObjects(objects...)
	if err != nil {
		return nil, fmt.Errorf("link: %w", err)
	}
	if err := os.WriteFile(dest, linked, 0o644); err != nil {
		return nil, err
	}
	b.logf("linked %s", strings.Join(b.opts.sources, " "))
	return deps, nil
}

// namedObject is an object in memory that link errors call by name.
type namedObject struct {
	*bytes.Reader
	name string
}

func (o namedObject) Name() string { return o.name }

// compile compiles src for tgt into dest, returning clang's dependencies
// with -makebase.
func (b *builder) compile(tgt target, src, dest string) ([]dependency, error) {
	flags := append(slices.Clone(b.ccArgs), b.opts.cFlags...)
	var depFile string
	if b.opts.makeBase != "" {
		f, err := os.CreateTemp("", "bpf2go-*.d")
		if err != nil {
			return nil, err
		}
		depFile = f.Name()
		f.Close()
		defer os.Remove(depFile)
		// -MP adds an empty rule per header, so that make doesn't fail
		// when one is deleted.
		flags = append(flags, "-MD", "-MP", "-MF", depFile)
	}
	err := gen.Compile(gen.CompileArgs{
		CC:               b.cc,
		Strip:            b.strip,
		DisableStripping: b.opts.disableStripping,
		Flags:            flags,
		Target:           tgt.Target,
		Workdir:          b.workdir,
		Source:           src,
		Dest:             dest,
		Stderr:           b.stderr,
	})
	if err != nil {
		os.Remove(dest)
		return nil, fmt.Errorf("compile %s: %w", src, err)
	}
	if depFile == "" {
		return nil, nil
	}
	f, err := os.Open(depFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	deps, err := parseDependencies(b.workdir, f)
	if err != nil {
		return nil, fmt.Errorf("read clang's dependency output: %w", err)
	}
	return deps, nil
}

// types returns the types to declare: those named with -type, then unless
// -no-global-types those of map keys, values and variables.
func (b *builder) types(spec *ebpf.CollectionSpec, objFile string) ([]btf.Type, error) {
	var types []btf.Type
	for _, name := range b.opts.cTypes {
		if spec.Types == nil {
			return nil, fmt.Errorf("-type %s: %s has no BTF (compile with -g)", name, filepath.Base(objFile))
		}
		typ, err := spec.Types.AnyTypeByName(name)
		if errors.Is(err, btf.ErrNotFound) {
			return nil, fmt.Errorf("-type %s: no type of that name in the BTF of %s", name, filepath.Base(objFile))
		}
		if err != nil {
			return nil, fmt.Errorf("-type %s: %w", name, err)
		}
		types = append(types, typ)
	}
	if !b.opts.skipGlobalTypes {
		types = append(types, gen.CollectGlobalTypes(spec)...)
	}
	return types, nil
}

// removeObsolete deletes files an older bpf2go wrote under names that the
// go command mistakes for build constraints (stem_bpfel_x86.go).
func (b *builder) removeObsolete(dir, stem string, tgt target) error {
	suffix := tgt.ObsoleteSuffix()
	if suffix == "" {
		return nil
	}
	for _, ext := range []string{".o", ".go"} {
		name := filepath.Join(dir, stem+"_"+suffix+ext)
		if err := os.Remove(name); err == nil {
			b.logf("removed obsolete %s", name)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove obsolete output: %w", err)
		}
	}
	return nil
}

func andConstraints(x, y constraint.Expr) constraint.Expr {
	switch {
	case x == nil:
		return y
	case y == nil:
		return x
	}
	return &constraint.AndExpr{X: x, Y: y}
}
