package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/go-quicktest/qt"
)

// TestGeneratedUpToDate fails when types_gen.go no longer matches the header:
// run `make generate`.
func TestGeneratedUpToDate(t *testing.T) {
	header, err := os.ReadFile("../uapi/bpf-uapi.h")
	qt.Assert(t, qt.IsNil(err))
	want, err := Generate(header)
	qt.Assert(t, qt.IsNil(err))
	got, err := os.ReadFile("../../../types_gen.go")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(bytes.Equal(got, want)), qt.Commentf("types_gen.go is stale: run make generate"))
}

func TestCamel(t *testing.T) {
	qt.Assert(t, qt.Equals(camel("TRACE_UPROBE_SESSION"), "TraceUprobeSession"))
}
