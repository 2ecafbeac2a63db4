package main

import (
	"fmt"
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

func TestFentry(t *testing.T) {
	exampletest.InNetns(t, func() {
		ex := exampletest.Start(t)
		ex.WaitFor(`^Reporting TCP connections`, nil)
		_, server := exampletest.TCPExchange(t)
		ex.WaitFor(fmt.Sprintf(`^\S+: 127\.0\.0\.1 -> 127\.0\.0\.1:%d$`, server), nil)
		ex.Stop()
	})
}
