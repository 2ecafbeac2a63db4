package main

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/bpfkit/ebpf"
)

// demo is bpfobj without a file: it shows the embedded default object and,
// with the privileges to, loads it and runs each of its programs once on
// the sample packet, so that one command walks through every stage. The
// object is testdata/bpfobj_default.c; its programs count packets in a map
// and two global variables.
//
// Text output is written as each stage finishes, so that a failing load
// still leaves the object's description on the screen.
func demo(report *Report, stdout io.Writer, opts options) error {
	name, object := defaultObject()
	file := name + " (embedded default object)"
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(object))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if err := describeInto(report, file, spec, opts); err != nil {
		return err
	}
	text := !opts.json
	if text {
		writeObject(stdout, report.Object)
		fmt.Fprintln(stdout)
	}

	if !privileged() {
		report.Note = "load and run need root: run bpfobj as root to load this object and run its programs"
		if text {
			fmt.Fprintf(stdout, "note: %s\n", report.Note)
		}
		return nil
	}

	coll, err := loadCollection(report, spec, options{verbose: opts.verbose})
	if text && report.Load != nil {
		writeLoad(stdout, name, report.Load)
	}
	if err != nil {
		return err
	}
	defer coll.Close()

	for _, prog := range slices.Sorted(maps.Keys(spec.Programs)) {
		rr, err := runOne(coll, spec, prog, runInput{repeat: 1})
		if rr != nil {
			report.Run = append(report.Run, rr)
			if text {
				fmt.Fprintln(stdout)
				writeRun(stdout, rr)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
