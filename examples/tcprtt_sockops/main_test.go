package main

import (
	"fmt"
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

// TestTCPRTTSockops watches the test's cgroup while the test exchanges
// data over a TCP connection on loopback, in a private namespace.
func TestTCPRTTSockops(t *testing.T) {
	cgroup := exampletest.OwnCgroup(t)
	exampletest.InNetns(t, func() {
		ex := exampletest.Start(t, "-cgroup", cgroup)
		ex.WaitFor(`^Reporting RTTs of TCP connections in `, nil)
		client, server := exampletest.TCPExchange(t)
		ex.WaitFor(fmt.Sprintf(`^127\.0\.0\.1:%d -> 127\.0\.0\.1:%d srtt [0-9]+us$`, client, server), nil)
		ex.Stop()
	})
}
