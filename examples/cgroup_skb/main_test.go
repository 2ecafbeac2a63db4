package main

import (
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

// TestCgroupSKB watches the test's own cgroup while the test sends
// datagrams (in a private network namespace).
func TestCgroupSKB(t *testing.T) {
	cgroup := exampletest.OwnCgroup(t)
	exampletest.InNetns(t, func() {
		ex := exampletest.Start(t, "-cgroup", cgroup)
		ex.WaitFor(`^Counting packets sent from `, nil)
		ex.WaitFor(`^[1-9][0-9]* packets sent$`, func() { exampletest.SendUDP(t, 9) })
		ex.Stop()
	})
}
