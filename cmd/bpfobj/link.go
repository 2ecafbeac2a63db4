package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bpfkit/ebpf"
)

// runLink is `bpfobj link -o OUT.o IN.o...`: it links the inputs with
// ebpf.LinkObjectFiles, the static linker that follows libbpf's (bpftool gen
// object), writes the object, and reads it back to report what it holds.
// It needs no privileges.
func runLink(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bpfobj link", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usage(stderr, err)
	}
	if *out == "" || len(pos) == 0 {
		return usage(stderr, usagef("link needs -o OUT.o and at least one IN.o"))
	}
	if err := linkFiles(stdout, *out, pos); err != nil {
		fmt.Fprintf(stderr, "bpfobj link: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func linkFiles(stdout io.Writer, out string, inputs []string) error {
	obj, err := ebpf.LinkObjectFiles(inputs...)
	if err != nil {
		return err
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(obj))
	if err != nil {
		return fmt.Errorf("the linked object does not read back: %w", err)
	}
	if err := os.WriteFile(out, obj, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d bytes from %s: %d programs, %d maps, %d variables\n",
		out, len(obj), strings.Join(inputs, " "), len(spec.Programs), len(spec.Maps), len(spec.Variables))
	return nil
}
