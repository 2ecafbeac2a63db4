package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

// TestCgroupSKB watches the test's own cgroup while the test sends
// datagrams (in a private network namespace).
func TestCgroupSKB(t *testing.T) {
	cgroup := ownCgroup(t)
	exampletest.InNetns(t, func() {
		ex := exampletest.Start(t, "-cgroup", cgroup)
		ex.WaitFor(`^Counting packets sent from `, nil)
		ex.WaitFor(`^[1-9][0-9]* packets sent$`, func() { exampletest.SendUDP(t, 9) })
		ex.Stop()
	})
}

// ownCgroup is the cgroup v2 directory of this process.
func ownCgroup(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/cgroup")
	qt.Assert(t, qt.IsNil(err))
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			root, err := cgroup2Root()
			if err != nil {
				t.Skip(err)
			}
			dir := filepath.Join(root, path)
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("cgroup v2 directory of this process: %v", err)
			}
			return dir
		}
	}
	t.Skip("no cgroup v2 hierarchy in /proc/self/cgroup")
	return ""
}
