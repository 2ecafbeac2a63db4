package main

import (
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

func TestTracepointInGo(t *testing.T) {
	ex := exampletest.Start(t)
	ex.WaitFor(`^Counting programs started`, nil)
	ex.WaitFor(`^[1-9][0-9]* programs started$`, func() { exampletest.Exec(t) })
	ex.Stop()
}
