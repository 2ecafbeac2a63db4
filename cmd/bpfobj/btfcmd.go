package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/bpfkit/ebpf/btf"
)

// bpfobj btf: a kernel's or an object's BTF as a C header, or the minimal
// BTF that some objects' CO-RE relocations need.
//
//	bpfobj btf [-format c] [-o FILE] FILE|vmlinux
//	bpfobj btf -min-core -o OUT.btf [-json] FILE|vmlinux OBJ.o...

// BTFResult is what `bpfobj btf -min-core` wrote.
type BTFResult struct {
	// Kernel is the BTF that was minimized ("vmlinux" for the running
	// kernel's), Objects the objects whose relocations it serves.
	Kernel  string   `json:"kernel"`
	Objects []string `json:"objects"`
	// Relocations counts the CO-RE relocations of the objects, Types the
	// types written.
	Relocations int `json:"relocations"`
	Types       int `json:"types"`
	// Output is the file written, Bytes its size.
	Output string `json:"output"`
	Bytes  int    `json:"bytes"`
}

// btfOptions are the flags of `bpfobj btf`.
type btfOptions struct {
	json    bool
	format  string
	minCore bool
	output  string
}

func runBTF(args []string, leadingJSON bool, stdout, stderr io.Writer) int {
	opts := btfOptions{json: leadingJSON}
	fs := flag.NewFlagSet("bpfobj btf", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&opts.json, "json", opts.json, "")
	fs.StringVar(&opts.format, "format", "c", "")
	fs.BoolVar(&opts.minCore, "min-core", false, "")
	fs.StringVar(&opts.output, "o", "", "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usage(stderr, err)
	}

	if !opts.minCore {
		switch {
		case opts.format != "c":
			return usage(stderr, usagef("-format %q: only c is supported", opts.format))
		case opts.json:
			return usage(stderr, usagef("-json applies to btf -min-core; the C header is text"))
		case len(pos) != 1:
			return usage(stderr, usagef("btf needs one FILE or vmlinux"))
		}
		if err := writeCHeader(pos[0], opts.output, stdout); err != nil {
			fmt.Fprintf(stderr, "bpfobj btf: %v\n", err)
			return exitFailure
		}
		return exitOK
	}

	switch {
	case opts.output == "":
		return usage(stderr, usagef("btf -min-core needs -o OUT.btf"))
	case len(pos) < 2:
		return usage(stderr, usagef("btf -min-core needs the kernel's BTF (FILE or vmlinux) and at least one object"))
	}
	var report Report
	report.BTF, err = minimalCOREBTF(pos[0], pos[1:], opts.output)
	if err != nil {
		report.Error = err.Error()
	}
	if opts.json {
		if code := writeJSON(stdout, stderr, &report); code != exitOK {
			return code
		}
	} else if err == nil {
		r := report.BTF
		fmt.Fprintf(stdout, "%s: %d bytes, %s for %s of %s (from %s)\n", r.Output, r.Bytes,
			plural(r.Types, "type"), plural(r.Relocations, "CO-RE relocation"), plural(len(r.Objects), "object"), r.Kernel)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bpfobj btf: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// loadBTF reads the BTF of file: raw BTF or an ELF file's .BTF section;
// "vmlinux" is the running kernel's.
func loadBTF(file string) (*btf.Spec, error) {
	if file == "vmlinux" {
		spec, err := btf.LoadKernelSpec()
		if err != nil {
			return nil, fmt.Errorf("kernel BTF: %w", err)
		}
		return spec, nil
	}
	spec, err := btf.LoadSpec(file)
	if err != nil {
		return nil, fmt.Errorf("read BTF of %s: %w", file, err)
	}
	return spec, nil
}

// writeCHeader writes the types of file as a C header, to out or, if
// output is set, to that file, as bpftool's "btf dump format c" does:
// with __VMLINUX_H__ guard, preserve_access_index, and kfunc prototypes.
func writeCHeader(file, output string, stdout io.Writer) error {
	spec, err := loadBTF(file)
	if err != nil {
		return err
	}
	cf := btf.CFormatter{Guard: "__VMLINUX_H__", PreserveAccessIndex: true, Kfuncs: true}
	if output == "" {
		if err := cf.WriteSpec(stdout, spec); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		return nil
	}
	var buf bytes.Buffer
	if err := cf.WriteSpec(&buf, spec); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return os.WriteFile(output, buf.Bytes(), 0o644)
}

// minimalCOREBTF writes the part of kernel's BTF that the CO-RE
// relocations of objects need to output.
func minimalCOREBTF(kernel string, objects []string, output string) (*BTFResult, error) {
	spec, err := loadBTF(kernel)
	if err != nil {
		return nil, err
	}
	r := &BTFResult{Kernel: kernel, Objects: objects, Output: output}
	var relos []*btf.CORERelocation
	for _, file := range objects {
		obj, err := readObject(file)
		if err != nil {
			return nil, err
		}
		for _, name := range slices.Sorted(maps.Keys(obj.Programs)) {
			insns := obj.Programs[name].Instructions
			for i := range insns {
				if relo := btf.CORERelocationMetadata(&insns[i]); relo != nil {
					relos = append(relos, relo)
				}
			}
		}
	}
	r.Relocations = len(relos)
	if len(relos) == 0 {
		return nil, errors.New("the objects have no CO-RE relocations (were they compiled with preserve_access_index or bpf_core_* macros?)")
	}
	b, err := btf.MinimizeForCORE(spec, relos)
	if err != nil {
		return nil, err
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		return nil, err
	}
	min, err := b.Spec()
	if err != nil {
		return nil, err
	}
	for _, err := range min.All() {
		if err != nil {
			return nil, err
		}
		r.Types++
	}
	if err := os.WriteFile(output, raw, 0o644); err != nil {
		return nil, err
	}
	r.Bytes = len(raw)
	return r, nil
}
