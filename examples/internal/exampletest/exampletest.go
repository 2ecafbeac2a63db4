package exampletest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
	"github.com/bpfkit/ebpf/rlimit"
)

// envRun tells a test binary started by Start to be the example.
const envRun = "BPFKIT_EXAMPLE_RUN"

// Exit codes of an example that could not run on this kernel.
const (
	exitUnsupported = 77
	exitForbidden   = 78
)

// Wait is how long WaitFor waits for a line: long enough for the VM tests
// under emulation.
var Wait = 90 * time.Second

// Main is the TestMain of an example's package. Started by Start, the
// binary runs the example's run function and exits: 0 when it returns nil,
// and distinct codes when its error says the kernel lacks a feature
// (ErrNotSupported) or forbids the program to a privileged process (a
// sys.PermissionError), so the test can
// skip with the reason. Otherwise it runs the tests.
func Main(m *testing.M, run func() error) {
	if os.Getenv(envRun) == "" {
		testutils.TestMain(m, rlimit.RemoveMemlock)
		return
	}
	err := run()
	var perm *sys.PermissionError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.Is(err, internal.ErrNotSupported):
		fmt.Println("exampletest: not supported:", err)
		os.Exit(exitUnsupported)
	case errors.As(err, &perm) && perm.Privileged:
		fmt.Println("exampletest: forbidden:", err)
		os.Exit(exitForbidden)
	}
	fmt.Println("error:", err)
	os.Exit(1)
}

// Example is a running example program.
type Example struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{} // closed when the process has exited
	err   error         // its exit status, once done

	mu  sync.Mutex
	out strings.Builder
}

// Start runs the example with args in a new process, in the calling
// thread's network namespace, and stops it when the test ends.
func Start(t *testing.T, args ...string) *Example {
	t.Helper()
	testutils.RequireRoot(t)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envRun+"=1")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		t.Fatal(err)
	}
	w.Close()
	e := &Example{t: t, cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	go e.read(r)
	t.Cleanup(func() {
		select {
		case <-e.done:
		default:
			cmd.Process.Kill()
			<-e.done
		}
		if t.Failed() {
			t.Logf("example output:\n%s", e.Output())
		}
	})
	return e
}

func (e *Example) read(r io.ReadCloser) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		e.mu.Lock()
		e.out.WriteString(line + "\n")
		e.mu.Unlock()
		select {
		case e.lines <- line:
		default: // nobody waits for it
		}
	}
	e.err = e.cmd.Wait()
	close(e.lines)
	close(e.done)
}

// Output is everything the example printed so far.
func (e *Example) Output() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.out.String()
}

// WaitFor returns the submatches of the first line, from now on, that
// matches pattern. trigger, if not nil, is called first and then every
// 100ms while no line matches, to cause the events the example counts. If
// the example exits instead, the test skips when the kernel lacks a feature
// or forbids the program, and fails otherwise.
func (e *Example) WaitFor(pattern string, trigger func()) []string {
	e.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.After(Wait)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	if trigger != nil {
		trigger()
	}
	for {
		select {
		case line, ok := <-e.lines:
			if !ok {
				e.exited()
				e.t.Fatalf("example exited before printing a line matching %q", pattern)
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-tick.C:
			if trigger != nil {
				trigger()
			}
		case <-deadline:
			e.t.Fatalf("no line matching %q within %v", pattern, Wait)
		}
	}
}

// exited handles an example that ended: a skip for a kernel that can't
// run it, nothing otherwise (the caller fails).
func (e *Example) exited() {
	e.t.Helper()
	<-e.done
	var exit *exec.ExitError
	if !errors.As(e.err, &exit) {
		return
	}
	out := strings.TrimSpace(e.Output())
	if i := strings.LastIndex(out, "exampletest: "); i >= 0 {
		out = out[i:]
	}
	switch exit.ExitCode() {
	case exitUnsupported:
		e.t.Skip("kernel feature missing: " + out)
	case exitForbidden:
		// Rebuild what the child saw for SkipIfForbidden, which also
		// knows that the VM tests must not skip.
		testutils.SkipIfForbidden(e.t, fmt.Errorf("%s%w", out, &sys.PermissionError{Privileged: true}), "the example's programs")
	}
}

// Stop interrupts the example like Ctrl-C does and checks that it exits
// cleanly; it returns all the output.
func (e *Example) Stop() string {
	e.t.Helper()
	if err := e.cmd.Process.Signal(syscall.SIGINT); err != nil {
		e.t.Fatal(err)
	}
	select {
	case <-e.done:
	case <-time.After(Wait):
		e.t.Fatal("example did not exit after SIGINT")
	}
	if e.err != nil {
		e.exited()
		e.t.Fatalf("example: %v", e.err)
	}
	return e.Output()
}

// Wait waits for an example that ends by itself and checks that it
// succeeded; it returns all the output.
func (e *Example) Wait() string {
	e.t.Helper()
	select {
	case <-e.done:
	case <-time.After(Wait):
		e.t.Fatal("example did not finish")
	}
	if e.err != nil {
		e.exited()
		e.t.Fatalf("example: %v", e.err)
	}
	return e.Output()
}

// Exec runs this test binary once without tests: a cheap execve(2) for
// the examples that count them.
func Exec(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(os.Args[0], "-test.run=^$").CombinedOutput(); err != nil {
		t.Fatalf("exec: %v\n%s", err, out)
	}
}

// Rename sets the name of the calling thread (prctl(PR_SET_NAME)), which
// fires the task/task_rename tracepoint.
func Rename(t *testing.T, name string) {
	t.Helper()
	b := append([]byte(name), 0)
	if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
}
