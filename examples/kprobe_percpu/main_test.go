package main

import (
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

func TestKprobePerCPU(t *testing.T) {
	ex := exampletest.Start(t)
	ex.WaitFor(`^Counting execve calls per CPU`, nil)
	ex.WaitFor(`^execve called [1-9][0-9]* times \(per CPU: \[[0-9 ]+\]\)$`, func() { exampletest.Exec(t) })
	ex.Stop()
}
