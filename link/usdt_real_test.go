package link

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

// Probes of programs Debian ships: python3.11's function__entry (with a
// semaphore, so the interpreter only reports calls while traced) and
// libstdc++'s throw (no semaphore, in a shared library).

const debianPython = "/usr/bin/python3.11"

// childProc is a helper process that prints one line when ready and one
// line per line it reads.
type childProc struct {
	t     testing.TB
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	pid   int
	ready string
}

func startChild(t testing.TB, name string, args ...string) *childProc {
	t.Helper()
	cmd := exec.Command(name, args...)
	in, err := cmd.StdinPipe()
	qt.Assert(t, qt.IsNil(err))
	out, err := cmd.StdoutPipe()
	qt.Assert(t, qt.IsNil(err))
	cmd.Stderr = os.Stderr
	qt.Assert(t, qt.IsNil(cmd.Start()))
	c := &childProc{t: t, cmd: cmd, in: in, out: bufio.NewReader(out), pid: cmd.Process.Pid}
	t.Cleanup(func() { c.stop() })
	c.ready = c.roundTrip("")
	return c
}

// stop closes the child's input and waits for it to exit.
func (c *childProc) stop() error {
	c.in.Close()
	if c.cmd.ProcessState != nil {
		return nil
	}
	return c.cmd.Wait()
}

// roundTrip writes line (if any) and returns the next line of output.
func (c *childProc) roundTrip(line string) string {
	c.t.Helper()
	if line != "" {
		_, err := io.WriteString(c.in, line+"\n")
		qt.Assert(c.t, qt.IsNil(err))
	}
	got, err := c.out.ReadString('\n')
	qt.Assert(c.t, qt.IsNil(err))
	return strings.TrimSuffix(got, "\n")
}

// pyScript calls bpfkit_marker, defined on line 2, once per line of
// input. python3.11 reaches its function__entry probe only while a
// profile or trace function is set (its interpreter checks the semaphore
// on its tracing path), hence the do-nothing profiler.
const pyScript = `import sys
def bpfkit_marker():
    pass
sys.setprofile(lambda *args: None)
print("ready", flush=True)
for line in sys.stdin:
    bpfkit_marker()
    print("called", flush=True)
`

func TestUSDTPython(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		t.Skipf("Debian's python3.11, which has USDT probes, is missing (.ci/deps.sh installs it where Debian has it): %v", err)
	}
	coll := usdtObject(t)
	prog := coll.Programs["usdt_py_entry"]

	o := loadObject(t, "usdt")
	target, err := ParseUSDTTarget(o.spec.Programs["usdt_py_entry"].AttachTo)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(target, USDTTarget{"python3.11", "python", "function__entry"}))
	// Not target.OpenExecutable: $PATH may lead to another python3.11.
	ex, err := OpenExecutable(debianPython)
	qt.Assert(t, qt.IsNil(err))

	p1 := startChild(t, debianPython, "-c", pyScript)
	p2 := startChild(t, debianPython, "-c", pyScript)
	l := attachUSDTOrSkip(t, ex, target.Provider, target.Name, prog, &USDTOptions{PID: p2.pid})

	qt.Assert(t, qt.Equals(p1.roundTrip("go"), "called"))
	qt.Assert(t, qt.Equals(p2.roundTrip("go"), "called"))
	qt.Assert(t, qt.Equals(p2.roundTrip("go"), "called"))
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "py_hits"), 2), qt.Commentf("only the PID's calls count"))
	qt.Assert(t, qt.Equals(getVar[uint32](t, coll, "py_pid"), uint32(p2.pid)))
	qt.Assert(t, qt.Equals(getVar[int64](t, coll, "py_line"), 2))

	qt.Assert(t, qt.IsNil(l.Close()))
	qt.Assert(t, qt.Equals(p2.roundTrip("go"), "called"))
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "py_hits"), 2))
}

// thrower.cc throws and catches an int per line of input; it starts by
// printing the address of int's type_info, which libstdcxx:throw passes.
const throwerSource = `#include <cstdio>
#include <typeinfo>
int main() {
	char line[64];
	std::printf("%p\n", (const void *)&typeid(int));
	std::fflush(stdout);
	while (std::fgets(line, sizeof(line), stdin)) {
		try {
			throw 42;
		} catch (int) {
		}
		std::printf("thrown\n");
		std::fflush(stdout);
	}
}
`

func TestUSDTLibstdcxx(t *testing.T) {
	gxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("g++ is missing (.ci/deps.sh installs it)")
	}
	src := filepath.Join(t.TempDir(), "thrower.cc")
	qt.Assert(t, qt.IsNil(os.WriteFile(src, []byte(throwerSource), 0o644)))
	bin := strings.TrimSuffix(src, ".cc")
	if out, err := exec.Command(gxx, "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("g++: %v\n%s", err, out)
	}
	coll := usdtObject(t)
	o := loadObject(t, "usdt")
	target, err := ParseUSDTTarget(o.spec.Programs["usdt_throw"].AttachTo)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(target, USDTTarget{"libstdc++.so.6", "libstdcxx", "throw"}))
	ex, err := target.OpenExecutable()
	if os.IsNotExist(err) {
		t.Skipf("libstdc++: %v", err)
	}
	qt.Assert(t, qt.IsNil(err))

	p := startChild(t, bin)
	tinfo, err := strconv.ParseUint(strings.TrimPrefix(p.ready, "0x"), 16, 64)
	qt.Assert(t, qt.IsNil(err), qt.Commentf("thrower said %q", p.ready))
	attachUSDTOrSkip(t, ex, target.Provider, target.Name, coll.Programs["usdt_throw"], &USDTOptions{PID: p.pid})
	for range 3 {
		qt.Assert(t, qt.Equals(p.roundTrip("go"), "thrown"))
	}
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "throw_hits"), 3))
	qt.Assert(t, qt.Equals(getVar[uint32](t, coll, "throw_pid"), uint32(p.pid)))
	qt.Assert(t, qt.Equals(uint64(getVar[int64](t, coll, "throw_tinfo")), tinfo))
}

func TestParseUSDTTarget(t *testing.T) {
	for _, c := range []struct {
		in   string
		want USDTTarget
		err  string
	}{
		{in: "/usr/bin/python3.11:python:function__entry", want: USDTTarget{"/usr/bin/python3.11", "python", "function__entry"}},
		{in: "libc.so.6:libc:setjmp", want: USDTTarget{"libc.so.6", "libc", "setjmp"}},
		{in: "", err: `usdt target "": want PATH:PROVIDER:NAME`},
		{in: "python:function__entry", err: `.*want PATH:PROVIDER:NAME`},
		{in: "a:b:c:d", err: `.*want PATH:PROVIDER:NAME`},
		{in: "a::c", err: `.*want PATH:PROVIDER:NAME`},
	} {
		got, err := ParseUSDTTarget(c.in)
		if c.err != "" {
			qt.Assert(t, qt.ErrorMatches(err, c.err))
			continue
		}
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(got, c.want))
	}

	// Bare names are looked up as libbpf does: programs in $PATH (and must
	// be executable), libraries in $LD_LIBRARY_PATH first.
	dir := t.TempDir()
	qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, "prog"), nil, 0o755)))
	qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, "noexec"), nil, 0o644)))
	qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, "libx.so.1"), nil, 0o644)))
	t.Setenv("PATH", dir)
	t.Setenv("LD_LIBRARY_PATH", dir)
	for in, want := range map[string]string{
		"prog":      filepath.Join(dir, "prog"),
		"libx.so.1": filepath.Join(dir, "libx.so.1"),
		"./rel":     "./rel",
	} {
		got, err := resolveTargetPath(in)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(got, want))
	}
	_, err := resolveTargetPath("noexec")
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
}
