package testutils

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/bpfkit/ebpf/internal/sys"
)

// TestMain runs a package's tests with file descriptor leak tracking and
// fails the package if any test let an FD become unreachable without
// closing it. Use it from a package's TestMain:
//
//	func TestMain(m *testing.M) { testutils.TestMain(m) }
//
// The leaked FDs are listed with the stacks that created them. Each of
// setup runs first, in order; a failure is printed and the tests run
// anyway (they then fail where the setup was needed). Packages that load
// objects pass rlimit.RemoveMemlock, which kernels before 5.11 need:
//
//	func TestMain(m *testing.M) { testutils.TestMain(m, rlimit.RemoveMemlock) }
func TestMain(m *testing.M, setup ...func() error) {
	for i, fn := range setup {
		if err := fn(); err != nil {
			fmt.Fprintf(os.Stderr, "test setup %d: %v\n", i, err)
		}
	}
	sys.EnableFDLeakTracking()
	code := m.Run()
	if leaks := sys.LeakedFDs(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d file descriptor(s) leaked (garbage collected without Close):\n", len(leaks))
		for _, stack := range leaks {
			fmt.Fprintf(os.Stderr, "\n%s\n", strings.TrimSpace(stack))
		}
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// CheckNoOpenFDs fails the test if FDs opened after the returned function's
// creation are still open when it is called. Tests that walk error paths
// with sys.InjectFaults use it to prove every path closed what it opened:
//
//	done := testutils.CheckNoOpenFDs(t)
//	_, err := NewCollection(spec) // fails at the Nth syscall
//	done()
func CheckNoOpenFDs(tb testing.TB) func() {
	tb.Helper()
	before := map[string]int{}
	for _, s := range sys.OpenFDs() {
		before[s]++
	}
	return func() {
		tb.Helper()
		var leaked []string
		for _, s := range sys.OpenFDs() {
			if before[s] > 0 {
				before[s]--
				continue
			}
			leaked = append(leaked, s)
		}
		if len(leaked) > 0 {
			tb.Errorf("%d file descriptor(s) still open:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	}
}

// OpenFDs counts the process's open file descriptors (the entries of
// /proc/self/fd), those sys.FD does not track (epoll instances, eventfds,
// perf events, pipes) included. Tests compare counts before and after an
// operation to prove that its error paths close what they opened.
func OpenFDs(tb testing.TB) int {
	tb.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Fatal(err)
	}
	return len(ents)
}
