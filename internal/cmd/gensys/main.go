// Command gensys generates the wire types of internal/sys from the UAPI
// header internal/cmd/uapi/bpf-uapi.h: one Go struct per bpf(2) command
// (a member of union bpf_attr), the bpf_*_info structs, the typed enums and
// flag constants, the typed wrapper function of each command, and the table
// the layout test checks against the C compiler.
//
// Usage (from internal/sys, through go generate):
//
//	go run ../cmd/gensys -in ../cmd/uapi/bpf-uapi.h -out .
//
// Offsets come from the header alone: the generator lays out the C types
// with the LP64 ABI rules and makes every byte of padding explicit, so the
// Go structs have the kernel's layout on 64- and 32-bit platforms alike.
// Which parts to generate and how to type them is configured in spec.go.
// The generator uses the standard library only.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	in := flag.String("in", "../cmd/uapi/bpf-uapi.h", "UAPI header to read")
	out := flag.String("out", ".", "directory of package sys")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gensys:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	src, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	files, err := generate(src)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(out, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
