package main

import (
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

// TestTCX sends datagrams over the loopback of a private network
// namespace: each one leaves and arrives on lo.
func TestTCX(t *testing.T) {
	exampletest.InNetns(t, func() {
		ex := exampletest.Start(t, "lo")
		ex.WaitFor(`^Counting packets on lo`, nil)
		ex.WaitFor(`^received [1-9][0-9]*, sent [1-9][0-9]* packets$`, func() { exampletest.SendUDP(t, 9) })
		ex.Stop()
	})
}
