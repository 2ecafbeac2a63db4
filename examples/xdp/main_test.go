package main

import (
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

// TestXDP sends datagrams to 127.0.0.1 in a private network namespace and
// waits for the example to count them as coming from 127.0.0.1.
func TestXDP(t *testing.T) {
	exampletest.InNetns(t, func() {
		ex := exampletest.Start(t, "lo")
		ex.WaitFor(`^Counting IPv4 packets on lo`, nil)
		ex.WaitFor(`^  127\.0\.0\.1: [1-9][0-9]* packets$`, func() { exampletest.SendUDP(t, 9) })
		ex.Stop()
	})
}
