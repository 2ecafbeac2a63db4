package main

import (
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

func TestSchedExt(t *testing.T) {
	ex := exampletest.Start(t)
	ex.WaitFor(`^Scheduling with bpfkit_minimal`, nil)
	ex.WaitFor(`^sched_ext enabled, ops bpfkit_minimal$`, nil)
	ex.Stop()
}
