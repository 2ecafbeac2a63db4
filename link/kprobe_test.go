package link

import (
	"os"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/kallsyms"
	"github.com/bpfkit/ebpf/internal/linux"
	"github.com/bpfkit/ebpf/internal/testutils"
	"github.com/bpfkit/ebpf/internal/tracefs"
)

// The kprobe tests probe the getpid(2) entry point, which the test calls
// itself. This machine has no kprobes (neither the PMU nor
// kprobe_events): the tests skip naming the feature, and run in the VM
// tests.

func getpidSymbol() string { return linux.SyscallPrefix() + "sys_getpid" }

// getpids calls getpid(2) n times. A program on the kprobe runs
// synchronously inside each call, so counters have moved when it returns.
func getpids(n int) {
	for range n {
		unix.Getpid()
	}
}

func TestKprobe(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	prog := obj.program("kp")

	l, err := Kprobe(getpidSymbol(), prog, &KprobeOptions{Cookie: 42})
	skipUnlessSupported(t, err)
	keep(t, l)
	getpids(5)
	qt.Assert(t, qt.IsTrue(obj.counter("kp_count") >= 5))

	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, PerfEventType))
	if kernelAtLeast(t, "6.6") {
		kp := info.PerfEvent().Kprobe()
		qt.Assert(t, qt.IsNotNil(kp))
		qt.Assert(t, qt.Equals(info.PerfEvent().Type, PerfEventKprobe))
		qt.Assert(t, qt.Equals(kp.Function, getpidSymbol()))
	}
	pinAndReload(t, l)
	mustClose(t, l)
	before := obj.counter("kp_count")
	getpids(1)
	qt.Assert(t, qt.IsTrue(obj.counter("kp_count")-before < 1+foreignCalls))
}

// foreignCalls allows for getpid calls of other processes while a
// system-wide probe on getpid is checked for being gone.
const foreignCalls = 5

func TestKretprobe(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	prog := obj.program("kretp")

	l, err := Kretprobe(getpidSymbol(), prog, nil)
	skipUnlessSupported(t, err)
	keep(t, l)
	getpids(5)
	qt.Assert(t, qt.IsTrue(obj.counter("kretp_count") >= 5))
	if kernelAtLeast(t, "6.6") {
		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.PerfEvent().Type, PerfEventKretprobe))
	}
	mustClose(t, l)
}

// TestKprobeSyscallPrefix attaches to "sys_getpid": the architecture's
// wrapper prefix is added when the plain name is unknown.
func TestKprobeSyscallPrefix(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	l, err := Kretprobe("sys_getpid", obj.program("kretp"), nil)
	skipUnlessSupported(t, err)
	keep(t, l)
	getpids(5)
	qt.Assert(t, qt.IsTrue(obj.counter("kretp_count") >= 5))
	mustClose(t, l)
}

// TestKretprobeMaxActive takes the tracefs path: the PMU can't express
// maxactive. The event lives in a group with the given prefix until Close.
func TestKretprobeMaxActive(t *testing.T) {
	testutils.MountTracefs(t)
	obj := loadObject(t, "link_tracing")
	prog := obj.program("kretp")

	l, err := Kretprobe(getpidSymbol(), prog, &KprobeOptions{RetprobeMaxActive: 64, TraceFSPrefix: "bpfkit_maxact"})
	skipUnlessSupported(t, err)
	keep(t, l)
	getpids(3)
	qt.Assert(t, qt.IsTrue(obj.counter("kretp_count") >= 3))
	qt.Assert(t, qt.IsTrue(kprobeGroupExists(t, "bpfkit_maxact_")))
	mustClose(t, l)
	qt.Assert(t, qt.IsFalse(kprobeGroupExists(t, "bpfkit_maxact_")))
}

// kprobeGroupExists reports whether kprobe_events lists a group of this
// process starting with prefix.
func kprobeGroupExists(t testing.TB, prefix string) bool {
	t.Helper()
	root, err := tracefs.Path()
	qt.Assert(t, qt.IsNil(err))
	raw, err := os.ReadFile(root + "/kprobe_events")
	if os.IsNotExist(err) {
		return false
	}
	qt.Assert(t, qt.IsNil(err))
	return strings.Contains(string(raw), ":"+prefix)
}

// TestKprobeTracefs creates the kprobe as a tracefs event, the path of
// kernels without the kprobe PMU.
func TestKprobeTracefs(t *testing.T) {
	testutils.MountTracefs(t)
	obj := loadObject(t, "link_tracing")
	prog := obj.program("kp")

	pe, err := openTracefsProbe(&probeArgs{typ: tracefs.Kprobe, symbol: getpidSymbol(), pid: -1, prefix: "bpfkit_kp"})
	skipUnlessSupported(t, err)
	group := pe.event.Group()
	l, err := attachPerfEvent(pe, prog, 0)
	if err != nil {
		pe.Close()
	}
	qt.Assert(t, qt.IsNil(err))
	keep(t, l)
	getpids(2)
	qt.Assert(t, qt.IsTrue(obj.counter("kp_count") >= 2))
	mustClose(t, l)
	qt.Assert(t, qt.IsFalse(probeEventExists(t, tracefs.Kprobe, group)))
}

func TestKprobeErrors(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	prog := obj.program("kp")
	tp := loadObject(t, "link_tracepoint").program("tp_getpid")

	_, err := Kprobe("", prog, nil)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = Kprobe(getpidSymbol(), nil, nil)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = Kprobe(getpidSymbol(), tp, nil)
	qt.Assert(t, qt.ErrorMatches(err, `.*want Kprobe`))
	_, err = Kprobe(getpidSymbol(), prog, &KprobeOptions{RetprobeMaxActive: 3})
	qt.Assert(t, qt.ErrorMatches(err, `.*for kretprobes`))
	_, err = Kretprobe(getpidSymbol(), prog, &KprobeOptions{RetprobeMaxActive: -1})
	qt.Assert(t, qt.IsNotNil(err))

	_, err = Kprobe("bpfkit_no_such_function", prog, nil)
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
}

func TestKprobeMulti(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	prog := obj.program("kp_multi")

	l, err := KprobeMulti(prog, KprobeMultiOptions{Symbols: []string{getpidSymbol()}, Cookies: []uint64{7}})
	skipUnlessSupported(t, err)
	keep(t, l)
	getpids(5)
	qt.Assert(t, qt.IsTrue(obj.counter("kp_multi_count") >= 5))

	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, KprobeMultiType))
	if kernelAtLeast(t, "6.6") {
		km := info.KprobeMulti()
		qt.Assert(t, qt.Equals(km.Count, 1))
		qt.Assert(t, qt.Equals(km.Flags, 0))
		addrs, ok := km.Addresses()
		qt.Assert(t, qt.IsTrue(ok))
		qt.Assert(t, qt.HasLen(addrs, 1))
	}
	qt.Assert(t, qt.ErrorIs(l.Update(prog), ErrNotSupported))
	pinAndReload(t, l)
	mustClose(t, l)

	// By address.
	addrs := map[string]uint64{getpidSymbol(): 0}
	if err := kallsyms.AssignAddresses(addrs); err != nil || addrs[getpidSymbol()] == 0 {
		t.Logf("no address for %s (%v): skipping the address variant", getpidSymbol(), err)
	} else {
		obj.reset("kp_multi_count")
		l, err = KprobeMulti(prog, KprobeMultiOptions{Addresses: []uintptr{uintptr(addrs[getpidSymbol()])}})
		qt.Assert(t, qt.IsNil(err))
		keep(t, l)
		getpids(2)
		qt.Assert(t, qt.IsTrue(obj.counter("kp_multi_count") >= 2))
		mustClose(t, l)
	}

	_, err = KprobeMulti(prog, KprobeMultiOptions{Symbols: []string{"bpfkit_no_such_function"}})
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
}

func TestKretprobeMulti(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	prog := obj.program("kretp_multi")

	l, err := KretprobeMulti(prog, KprobeMultiOptions{Symbols: []string{getpidSymbol()}})
	skipUnlessSupported(t, err)
	keep(t, l)
	getpids(5)
	qt.Assert(t, qt.IsTrue(obj.counter("kretp_multi_count") >= 5))
	if kernelAtLeast(t, "6.6") {
		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.KprobeMulti().Flags, uint32(1))) // BPF_F_KPROBE_MULTI_RETURN
	}
	mustClose(t, l)
}

// TestKprobeSession runs one program at entry and return (6.10).
func TestKprobeSession(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	prog := obj.program("kp_multi", func(ps *ebpf.ProgramSpec) {
		ps.AttachType = ebpf.AttachTraceKprobeSession
	})

	l, err := KprobeMulti(prog, KprobeMultiOptions{Symbols: []string{getpidSymbol()}, Session: true})
	skipUnlessSupported(t, err)
	keep(t, l)
	getpids(5)
	// Entry and return of each call.
	qt.Assert(t, qt.IsTrue(obj.counter("kp_multi_count") >= 10))
	mustClose(t, l)
}

func TestKprobeMultiErrors(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	prog := obj.program("kp_multi")

	for _, opts := range []KprobeMultiOptions{
		{},
		{Symbols: []string{"a"}, Addresses: []uintptr{1}},
		{Symbols: []string{"a", "b"}, Cookies: []uint64{1}},
	} {
		_, err := KprobeMulti(prog, opts)
		qt.Assert(t, qt.IsNotNil(err))
	}
	_, err := KretprobeMulti(prog, KprobeMultiOptions{Symbols: []string{"a"}, Session: true})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = KprobeMulti(nil, KprobeMultiOptions{Symbols: []string{"a"}})
	qt.Assert(t, qt.IsNotNil(err))
}
