package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
)

func TestLink(t *testing.T) {
	out := filepath.Join(t.TempDir(), "linked.o")
	a, b := "../../testdata/objlink_b-el.elf", "../../testdata/objlink_a-el.elf"
	var stdout, stderr bytes.Buffer
	code := run([]string{"link", "-o", out, a, b}, &stdout, &stderr)
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("%s", stderr.String()))
	qt.Assert(t, qt.StringContains(stdout.String(), "2 programs, 2 maps, 3 variables"))

	// The file holds what the in-memory path gives.
	fromFile, err := ebpf.LoadCollectionSpec(out)
	qt.Assert(t, qt.IsNil(err))
	inMemory, err := ebpf.LoadLinkedCollectionSpec(a, b)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(fromFile.Programs, len(inMemory.Programs)))
	for name, p := range inMemory.Programs {
		qt.Assert(t, qt.CmpEquals(fromFile.Programs[name].Instructions, p.Instructions), qt.Commentf("program %s", name))
	}
}

func TestLinkErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"link", "../../testdata/objlink_b-el.elf"}, exitUsage, "link needs -o OUT.o"},
		{[]string{"link", "-o", "x.o"}, exitUsage, "link needs -o OUT.o"},
		{[]string{"link", "-o", filepath.Join(t.TempDir(), "x.o"), "../../testdata/objlink_b-el.elf", "../../testdata/err_objlink_strong-el.elf"},
			exitFailure, `err_objlink_strong-el.elf: symbol "b_func": conflicting non-weak definitions`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			qt.Assert(t, qt.Equals(run(tc.args, &stdout, &stderr), tc.code))
			qt.Assert(t, qt.StringContains(stderr.String(), tc.err))
		})
	}
}
