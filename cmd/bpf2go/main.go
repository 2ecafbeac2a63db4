package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Stdout, os.Stderr, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bpf2go:", err)
		var cli cliError
		if errors.As(err, &cli) {
			fmt.Fprintln(os.Stderr, "Run bpf2go -h for the usage.")
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run is the whole command: parse args, then build and write every
// target. -h prints the usage to stdout and succeeds.
func run(stdout, stderr io.Writer, args []string) error {
	opts, err := parseArgs(stdout, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		var cli cliError
		if !errors.As(err, &cli) && !isFlagError(err) {
			return err
		}
		return cliError{err}
	}
	b, err := newBuilder(opts, stdout, stderr)
	if err != nil {
		return err
	}
	for _, tgt := range opts.targets {
		if err := b.convert(tgt); err != nil {
			return fmt.Errorf("target %s: %w", tgt.Suffix(), err)
		}
	}
	return nil
}

// isFlagError reports whether err came from the flag package (an unknown
// flag, a bad value): everything parseArgs returns that isn't an I/O error.
func isFlagError(err error) bool {
	var pathErr *os.PathError
	return !errors.As(err, &pathErr)
}
