package main

import (
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

func TestTracepointInC(t *testing.T) {
	ex := exampletest.Start(t)
	ex.WaitFor(`^Counting thread renames`, nil)
	ex.WaitFor(`^  renamed to "bpfkit-tp-c": [1-9][0-9]* times$`, func() { exampletest.Rename(t, "bpfkit-tp-c") })
	ex.Stop()
}
