package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

// TestKprobePin runs the example twice on one pin directory: the second
// run starts from the first one's count.
func TestKprobePin(t *testing.T) {
	testutils.RequireRoot(t)
	dir := filepath.Join(testutils.TempBPFFS(t), "kprobepin")
	ex := exampletest.Start(t, "-pin-dir", dir)
	ex.WaitFor(`^Counting execve calls in `+dir+`/calls`, nil)
	m := ex.WaitFor(`^execve called ([1-9][0-9]*) times$`, func() { exampletest.Exec(t) })
	ex.Stop()
	first, _ := strconv.Atoi(m[1])
	_, err := os.Stat(filepath.Join(dir, "calls"))
	qt.Assert(t, qt.IsNil(err), qt.Commentf("the map stays pinned"))

	again := exampletest.Start(t, "-pin-dir", dir)
	m = again.WaitFor(`^execve called ([0-9]+) times$`, nil)
	again.Stop()
	second, _ := strconv.Atoi(m[1])
	qt.Assert(t, qt.IsTrue(second >= first), qt.Commentf("second run starts at %d, first ended at %d", second, first))
}
