package linux

import (
	"os"
	"runtime"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"
)

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"0", 1},
		{"0\n", 1},
		{"0-3", 4},
		{"0-3\n", 4},
		{"0-1,3", 3},
		{"0,2-5,7", 6},
		{"1-1", 1},
		{"5", 1},
		{"0-8191", 8192},
	} {
		got, err := ParseCPUList(tc.in)
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%q", tc.in))
		qt.Assert(t, qt.Equals(got, tc.want), qt.Commentf("%q", tc.in))
	}

	for _, tc := range []struct{ in, want string }{
		{"", `cpu list "": empty`},
		{"\n", `cpu list "\\n": empty`},
		{"a", `cpu list "a": cpu number "a": not a CPU number below 1048576`},
		{"0-", `cpu list "0-": cpu number "": invalid syntax`},
		{"-1", `cpu list "-1": cpu number "": invalid syntax`},
		{"+1", `cpu list "\+1": cpu number "\+1": invalid syntax`},
		{"0,,1", `cpu list "0,,1": cpu number "": invalid syntax`},
		{"3-1", `cpu list "3-1": range 3-1 runs backwards`},
		{"0-3,2", `cpu list "0-3,2": 2 is out of order or overlaps`},
		{"1,0", `cpu list "1,0": 0 is out of order or overlaps`},
		{"0-4294967296", `.*not a CPU number below 1048576`},
		{"0-1048576", `.*not a CPU number below 1048576`},
		{"0-1-2", `cpu list "0-1-2": cpu number "1-2": .*`},
		{"0 - 1", `.*cpu number "0 ": .*`},
	} {
		_, err := ParseCPUList(tc.in)
		qt.Assert(t, qt.ErrorMatches(err, tc.want), qt.Commentf("%q", tc.in))
	}
}

func TestCPUs(t *testing.T) {
	possible, err := PossibleCPUs()
	qt.Assert(t, qt.IsNil(err))
	online, err := OnlineCPUs()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(online >= 1 && online <= possible), qt.Commentf("online %d, possible %d", online, possible))
	// The Go runtime sees the CPUs this process may run on, at most the
	// online ones.
	qt.Assert(t, qt.IsTrue(runtime.NumCPU() <= online), qt.Commentf("NumCPU %d, online %d", runtime.NumCPU(), online))

	again, err := PossibleCPUs()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(again, possible))
}

func TestSyscallPrefix(t *testing.T) {
	qt.Assert(t, qt.Equals(syscallPrefix("amd64"), "__x64_"))
	qt.Assert(t, qt.Equals(syscallPrefix("arm64"), "__arm64_"))
	qt.Assert(t, qt.Equals(syscallPrefix("ppc64le"), "__powerpc_"))
	qt.Assert(t, qt.Equals(syscallPrefix("loong64"), ""))
	qt.Assert(t, qt.Equals(SyscallPrefix(), syscallPrefix(runtime.GOARCH)))
}

func TestKernelRelease(t *testing.T) {
	release, err := KernelRelease()
	qt.Assert(t, qt.IsNil(err))
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(release+"\n", string(data)))
}

func TestFSType(t *testing.T) {
	typ, err := FSType("/proc")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(typ, int64(unix.PROC_SUPER_MAGIC)))

	_, err = FSType("/nonexistent/bpfkit")
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.ErrorMatches(err, "statfs /nonexistent/bpfkit: no such file or directory"))
}

func BenchmarkParseCPUList(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCPUList("0-3,5,7-127\n"); err != nil {
			b.Fatal(err)
		}
	}
}
