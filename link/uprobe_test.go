package link

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/testutils"
	"github.com/bpfkit/ebpf/internal/tracefs"
)

// The uprobe tests probe functions of the test binary itself, found by
// their addresses (go test strips the symbol table), and libc functions by
// name. Entry probes are safe on Go functions; return probes rewrite the
// return address on the stack, which Go's stack copying and tracebacks
// don't expect, so they probe libc (called by a child process) instead.

var uprobeSink int

//go:noinline
func uprobeTarget(x int) int { return x*3 + 1 }

//go:noinline
func uprobeTarget2(x int) int { return x*5 + 2 }

//go:noinline
func uprobeTarget3(x int) int { return x*7 + 3 }

// uretprobeTarget is a nosplit leaf: while a return probe has replaced its
// return address, it can't grow its stack or stop at a safe point, so the
// Go runtime never walks its frame (which would choke on the probe's
// trampoline address).
//
//go:noinline
//go:nosplit
func uretprobeTarget(x int) int { return x + 11 }

//go:noinline
//go:nosplit
func uretprobeTarget2(x int) int { return x + 13 }

// uprobeSemaphore is a USDT-style reference counter: while a probe names
// it, the kernel adds 1 to it in this process. Its initial value keeps it
// in a file-backed data section (.noptrdata), which the kernel requires.
var uprobeSemaphore uint16 = 0x100

func self(t testing.TB) *Executable {
	t.Helper()
	path, err := os.Executable()
	qt.Assert(t, qt.IsNil(err))
	ex, err := OpenExecutable(path)
	qt.Assert(t, qt.IsNil(err))
	return ex
}

// fileOffset returns the offset in the test binary of the code or data at
// addr in this process, from /proc/self/maps.
func fileOffset(t testing.TB, addr uintptr) uint64 {
	t.Helper()
	exe, err := os.Executable()
	qt.Assert(t, qt.IsNil(err))
	f, err := os.Open("/proc/self/maps")
	qt.Assert(t, qt.IsNil(err))
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe {
			continue
		}
		var start, end, off uint64
		_, err := fmt.Sscanf(fields[0]+" "+fields[2], "%x-%x %x", &start, &end, &off)
		qt.Assert(t, qt.IsNil(err))
		if uint64(addr) >= start && uint64(addr) < end {
			return uint64(addr) - start + off
		}
	}
	qt.Assert(t, qt.IsNil(sc.Err()))
	t.Fatalf("address %#x is not in a mapping of %s", addr, exe)
	return 0
}

// funcOffset returns the file offset of the entry of fn, a function of the
// test binary.
func funcOffset(t testing.TB, fn any) uint64 {
	t.Helper()
	return fileOffset(t, reflect.ValueOf(fn).Pointer())
}

func TestExecutableSymbols(t *testing.T) {
	ex, err := OpenExecutable(libc(t))
	qt.Assert(t, qt.IsNil(err))
	off, err := ex.address("malloc", 0, 0)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Not(qt.Equals(off, 0)))

	so, err := ex.Symbol(off + 1)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(so.Offset, 1))
	again, err := ex.address(so.Symbol, 0, 0)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(again, off))

	got, err := ex.address("malloc", 0, 4)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(got, off+4))
	got, err = ex.address("", 0x1234, 2)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(got, uint64(0x1236)))

	_, err = ex.address("bpfkit_no_such_symbol", 0, 0)
	qt.Assert(t, qt.ErrorIs(err, ErrNoSymbol))
	_, err = ex.Symbol(0)
	qt.Assert(t, qt.ErrorIs(err, ErrNoSymbol))
	_, err = ex.address("", 0, 0)
	qt.Assert(t, qt.IsNotNil(err))

	// ls imports malloc from libc: it is not defined there.
	ls, err := exec.LookPath("ls")
	qt.Assert(t, qt.IsNil(err))
	lsEx, err := OpenExecutable(ls)
	qt.Assert(t, qt.IsNil(err))
	_, err = lsEx.address("malloc", 0, 0)
	qt.Assert(t, qt.ErrorIs(err, ErrNoSymbol))
	qt.Assert(t, qt.ErrorMatches(err, `.*imported.*`))

	// The stripped test binary has no symbols to find.
	_, err = self(t).address("main.main", 0, 0)
	qt.Assert(t, qt.ErrorIs(err, ErrNoSymbol))

	_, err = OpenExecutable("/proc/self/status")
	qt.Assert(t, qt.IsNotNil(err))
	_, err = OpenExecutable("/bpfkit/no/such/file")
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	_, err = OpenExecutable("")
	qt.Assert(t, qt.IsNotNil(err))
}

func TestUprobe(t *testing.T) {
	obj := loadObject(t, "link_uprobe")
	prog := obj.program("on_entry")
	ex := self(t)

	const cookie = 0x5eed
	target := funcOffset(t, uprobeTarget)
	l, err := ex.Uprobe("uprobeTarget", prog, &UprobeOptions{Address: target, Cookie: cookie, PID: os.Getpid()})
	skipUnlessSupported(t, err)
	keep(t, l)
	for i := range 4 {
		uprobeSink += uprobeTarget(i)
	}
	qt.Assert(t, qt.Equals(obj.counter("entry_count"), 4))
	qt.Assert(t, qt.Equals(obj.counter("last_cookie"), cookie))

	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, PerfEventType))
	if kernelAtLeast(t, "6.6") {
		up := info.PerfEvent().Uprobe()
		qt.Assert(t, qt.IsNotNil(up))
		qt.Assert(t, qt.Equals(info.PerfEvent().Type, PerfEventUprobe))
		qt.Assert(t, qt.Equals(uint64(up.Offset), target))
		qt.Assert(t, qt.Equals(up.File, ex.path))
	}
	pinAndReload(t, l)
	mustClose(t, l)
	uprobeSink += uprobeTarget(9)
	qt.Assert(t, qt.Equals(obj.counter("entry_count"), 4))

	// A probe limited to another process doesn't see this one's calls.
	l, err = ex.Uprobe("", prog, &UprobeOptions{Address: target, PID: 1})
	qt.Assert(t, qt.IsNil(err))
	keep(t, l)
	uprobeSink += uprobeTarget(10)
	qt.Assert(t, qt.Equals(obj.counter("entry_count"), 4))
	mustClose(t, l)

	mustClose(t, l)
}

func TestUprobeErrors(t *testing.T) {
	obj := loadObject(t, "link_uprobe")
	prog := obj.program("on_entry")
	tp := loadObject(t, "link_tracepoint").program("tp_getpid")
	ex := self(t)

	target := &UprobeOptions{Address: funcOffset(t, uprobeTarget)}

	_, err := ex.Uprobe("bpfkit_no_such_symbol", prog, nil)
	qt.Assert(t, qt.ErrorIs(err, ErrNoSymbol))
	_, err = ex.Uprobe("", tp, target)
	qt.Assert(t, qt.ErrorMatches(err, `.*want Kprobe`))
	_, err = ex.Uprobe("", nil, target)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = ex.Uprobe("", prog, &UprobeOptions{Address: target.Address, PID: -2})
	qt.Assert(t, qt.IsNotNil(err))
	// An offset beyond the end of the file.
	_, err = ex.Uprobe("", prog, &UprobeOptions{Address: 1 << 40})
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))

	_, err = probeGroup("bad-prefix")
	qt.Assert(t, qt.ErrorIs(err, os.ErrInvalid))
	_, err = probeGroup(strings.Repeat("x", maxPrefixLen+1))
	qt.Assert(t, qt.ErrorIs(err, os.ErrInvalid))
	g, err := probeGroup("")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(g, ""))
	g, err = probeGroup(strings.Repeat("x", maxPrefixLen))
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(len(g) <= 63))
}

func TestUprobeRefCtr(t *testing.T) {
	obj := loadObject(t, "link_uprobe")
	prog := obj.program("on_entry")
	ex := self(t)
	ref := fileOffset(t, uintptr(unsafe.Pointer(&uprobeSemaphore)))

	before := uprobeSemaphore
	l, err := ex.Uprobe("", prog, &UprobeOptions{Address: funcOffset(t, uprobeTarget3), RefCtrOffset: ref, PID: os.Getpid()})
	skipUnlessSupported(t, err)
	keep(t, l)
	qt.Assert(t, qt.Equals(uprobeSemaphore, before+1))
	uprobeSink += uprobeTarget3(1)
	qt.Assert(t, qt.Equals(obj.counter("entry_count"), 1))
	if kernelAtLeast(t, "6.6") {
		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		if kernelAtLeast(t, "6.16") { // reports the reference counter
			qt.Assert(t, qt.Equals(info.PerfEvent().Uprobe().OffsetReferenceCount, ref))
		}
	}
	mustClose(t, l)
	qt.Assert(t, qt.Equals(uprobeSemaphore, before))
}

// libc returns the path of the C library, to resolve symbols of a shared
// library and to probe functions a child process (ls) calls.
func libc(t *testing.T) string {
	t.Helper()
	for _, p := range []string{
		"/lib/x86_64-linux-gnu/libc.so.6",
		"/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/lib/aarch64-linux-gnu/libc.so.6",
		"/usr/lib/aarch64-linux-gnu/libc.so.6",
		"/lib64/libc.so.6",
		"/usr/lib64/libc.so.6",
		"/lib/libc.so.6",
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no glibc libc.so.6 on this system (needed to probe a C library)")
	return ""
}

// runLs runs ls(1), which calls malloc in libc.
func runLs(t *testing.T) {
	t.Helper()
	out, err := exec.Command("ls", "/").CombinedOutput()
	qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", out))
}

func TestUretprobeGo(t *testing.T) {
	obj := loadObject(t, "link_uprobe")
	prog := obj.program("on_return")
	ex := self(t)

	l, err := ex.Uretprobe("", prog, &UprobeOptions{Address: funcOffset(t, uretprobeTarget), PID: os.Getpid()})
	skipUnlessSupported(t, err)
	keep(t, l)
	// Collect garbage meanwhile: the runtime must never see the probe.
	stop := make(chan struct{})
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	const calls = 2000
	for i := range calls {
		uprobeSink += uretprobeTarget(i)
	}
	close(stop)
	<-gcDone
	qt.Assert(t, qt.Equals(obj.counter("return_count"), calls))
	if kernelAtLeast(t, "6.6") {
		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.PerfEvent().Type, PerfEventUretprobe))
	}
	mustClose(t, l)
	uprobeSink += uretprobeTarget(1)
	qt.Assert(t, qt.Equals(obj.counter("return_count"), calls))
}

func TestUretprobe(t *testing.T) {
	obj := loadObject(t, "link_uprobe")
	prog := obj.program("on_return")
	ex, err := OpenExecutable(libc(t))
	qt.Assert(t, qt.IsNil(err))

	l, err := ex.Uretprobe("malloc", prog, nil)
	skipUnlessSupported(t, err)
	keep(t, l)
	runLs(t)
	qt.Assert(t, qt.IsTrue(obj.counter("return_count") >= 1))
	if kernelAtLeast(t, "6.6") {
		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.PerfEvent().Type, PerfEventUretprobe))
	}
	mustClose(t, l)
}

// TestUprobeTracefs creates the probe as a uprobe event in tracefs, the
// path of kernels without the uprobe PMU, and checks that Close removes
// the event.
func TestUprobeTracefs(t *testing.T) {
	testutils.MountTracefs(t)
	obj := loadObject(t, "link_uprobe")
	prog := obj.program("on_entry")
	ex := self(t)
	off := funcOffset(t, uprobeTarget)

	pe, err := openTracefsProbe(&probeArgs{
		typ: tracefs.Uprobe, symbol: "uprobeTarget", path: ex.path,
		offset: off, pid: os.Getpid(), prefix: "bpfkit_test",
	})
	skipUnlessSupported(t, err)
	qt.Assert(t, qt.IsNotNil(pe.event))
	group := pe.event.Group()
	qt.Assert(t, qt.IsTrue(strings.HasPrefix(group, "bpfkit_test_")))
	qt.Assert(t, qt.IsTrue(probeEventExists(t, tracefs.Uprobe, group)))

	l, err := attachPerfEvent(pe, prog, 0x77)
	if err != nil {
		pe.Close()
	}
	qt.Assert(t, qt.IsNil(err))
	keep(t, l)
	uprobeSink += uprobeTarget(3)
	qt.Assert(t, qt.Equals(obj.counter("entry_count"), 1))
	qt.Assert(t, qt.Equals(obj.counter("last_cookie"), 0x77))
	mustClose(t, l)
	qt.Assert(t, qt.IsFalse(probeEventExists(t, tracefs.Uprobe, group)))
}

// probeEventExists reports whether the kprobe_events/uprobe_events file
// lists an event of group.
func probeEventExists(t testing.TB, typ tracefs.ProbeType, group string) bool {
	t.Helper()
	return probeEventExistsPrefix(t, typ, group+"/")
}

// probeEventExistsPrefix reports whether the kprobe_events/uprobe_events
// file lists an event whose "group/name" starts with prefix.
func probeEventExistsPrefix(t testing.TB, typ tracefs.ProbeType, prefix string) bool {
	t.Helper()
	root, err := tracefs.Path()
	qt.Assert(t, qt.IsNil(err))
	file := root + "/uprobe_events"
	if typ == tracefs.Kprobe {
		file = root + "/kprobe_events"
	}
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return false
	}
	qt.Assert(t, qt.IsNil(err))
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), ":"+prefix) {
			return true
		}
	}
	qt.Assert(t, qt.IsNil(sc.Err()))
	return false
}

func TestUprobeMulti(t *testing.T) {
	obj := loadObject(t, "link_uprobe")
	prog := obj.program("on_multi")
	ex := self(t)

	addrs := []uint64{funcOffset(t, uprobeTarget), funcOffset(t, uprobeTarget2), funcOffset(t, uprobeTarget3)}
	l, err := ex.UprobeMulti(nil, prog, &UprobeMultiOptions{Addresses: addrs, PID: uint32(os.Getpid()), Cookies: []uint64{1, 2, 3}})
	skipUnlessSupported(t, err)
	keep(t, l)
	uprobeSink += uprobeTarget(1) + uprobeTarget2(1) + uprobeTarget3(1)
	qt.Assert(t, qt.Equals(obj.counter("multi_count"), 3))

	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, UprobeMultiType))
	if kernelAtLeast(t, "6.8") {
		um := info.UprobeMulti()
		qt.Assert(t, qt.Equals(um.Count, 3))
		qt.Assert(t, qt.Equals(um.File, ex.path))
		pid, ok := um.Pid()
		qt.Assert(t, qt.IsTrue(ok))
		qt.Assert(t, qt.Equals(pid, uint32(os.Getpid())))
		offs, ok := um.Offsets()
		qt.Assert(t, qt.IsTrue(ok))
		var want []UprobeMultiOffset
		for i, off := range addrs {
			want = append(want, UprobeMultiOffset{Offset: off, Cookie: uint64(i + 1)})
		}
		qt.Assert(t, qt.DeepEquals(offs, want))
	}
	qt.Assert(t, qt.ErrorIs(l.Update(prog), ErrNotSupported))
	pinAndReload(t, l)
	mustClose(t, l)
	uprobeSink += uprobeTarget(1)
	qt.Assert(t, qt.Equals(obj.counter("multi_count"), 3))

	_, err = ex.UprobeMulti(nil, prog, nil)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = ex.UprobeMulti([]string{"a"}, prog, &UprobeMultiOptions{Addresses: addrs})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = ex.UprobeMulti(nil, prog, &UprobeMultiOptions{Addresses: addrs, Cookies: []uint64{1}})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = ex.UprobeMulti([]string{"bpfkit_no_such_symbol"}, prog, nil)
	qt.Assert(t, qt.ErrorIs(err, ErrNoSymbol))
	// Above pid_max (at most 2^22): no such process.
	_, err = ex.UprobeMulti(nil, prog, &UprobeMultiOptions{Addresses: addrs, PID: 1 << 30})
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.ErrorIs(err, unix.ESRCH))
}

func TestUretprobeMultiGo(t *testing.T) {
	obj := loadObject(t, "link_uprobe")
	prog := obj.program("on_multi_return")
	ex := self(t)

	addrs := []uint64{funcOffset(t, uretprobeTarget), funcOffset(t, uretprobeTarget2)}
	l, err := ex.UretprobeMulti(nil, prog, &UprobeMultiOptions{Addresses: addrs, PID: uint32(os.Getpid())})
	skipUnlessSupported(t, err)
	keep(t, l)
	uprobeSink += uretprobeTarget(1) + uretprobeTarget2(2)
	qt.Assert(t, qt.Equals(obj.counter("multi_return_count"), 2))
	if kernelAtLeast(t, "6.8") {
		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.UprobeMulti().Flags, uint32(1))) // BPF_F_UPROBE_MULTI_RETURN
	}
	mustClose(t, l)
}

func TestUretprobeMulti(t *testing.T) {
	obj := loadObject(t, "link_uprobe")
	prog := obj.program("on_multi_return")
	ex, err := OpenExecutable(libc(t))
	qt.Assert(t, qt.IsNil(err))

	l, err := ex.UretprobeMulti([]string{"malloc", "free"}, prog, nil)
	skipUnlessSupported(t, err)
	keep(t, l)
	runLs(t)
	qt.Assert(t, qt.IsTrue(obj.counter("multi_return_count") >= 1))
	mustClose(t, l)
}
