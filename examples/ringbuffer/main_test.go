package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

// TestRingbuffer starts this test binary and waits for its event.
func TestRingbuffer(t *testing.T) {
	ex := exampletest.Start(t)
	ex.WaitFor(`^Waiting for programs to start`, nil)
	self := regexp.QuoteMeta(filepath.Base(os.Args[0]))
	ex.WaitFor(`^pid [1-9][0-9]* comm \S+ filename \S*`+self+`$`, func() { exampletest.Exec(t) })
	ex.Stop()
}
