package link

import (
	"os"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// fentry, fexit, fmod_ret, LSM and extension programs get EPERM at load on
// this machine: these tests skip naming the program type and run in the
// VM tests. tp_btf works here.

func TestFentryFexit(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	fentry := obj.program("on_fentry")
	fexit := obj.program("on_fexit")

	le, err := AttachTracing(TracingOptions{Program: fentry})
	qt.Assert(t, qt.IsNil(err))
	keep(t, le)
	lx, err := AttachTracing(TracingOptions{Program: fexit, AttachType: ebpf.AttachTraceFExit})
	qt.Assert(t, qt.IsNil(err))
	keep(t, lx)

	// A test run of a tracing program calls bpf_fentry_test1(1).
	_, err = fentry.Run(&ebpf.RunOptions{})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(obj.counter("fentry_count") >= 1))
	qt.Assert(t, qt.IsTrue(obj.counter("fexit_count") >= 1))
	qt.Assert(t, qt.Equals(int64(obj.counter("fexit_ret")), 2))

	info, err := le.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, TracingType))
	qt.Assert(t, qt.Equals(info.Tracing().AttachType, ebpf.AttachTraceFEntry))
	qt.Assert(t, qt.Not(qt.Equals(info.Tracing().TargetBtfId, 0)))
	qt.Assert(t, qt.ErrorIs(le.Update(fentry), ErrNotSupported))
	pinAndReload(t, le)
	mustClose(t, le)
	mustClose(t, lx)

	before := obj.counter("fentry_count")
	_, err = fentry.Run(&ebpf.RunOptions{})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(obj.counter("fentry_count"), before))
}

func TestTracingCookie(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	fentry := obj.program("on_fentry")

	_, err := AttachTracing(TracingOptions{Program: fentry, Cookie: 1})
	qt.Assert(t, qt.ErrorMatches(err, `.*needs the AttachType`))
	l, err := AttachTracing(TracingOptions{Program: fentry, AttachType: ebpf.AttachTraceFEntry, Cookie: 1})
	skipUnlessSupported(t, err)
	keep(t, l)
	_, err = fentry.Run(&ebpf.RunOptions{})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsTrue(obj.counter("fentry_count") >= 1))
	mustClose(t, l)
}

func TestFmodRet(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	trigger := func(prog *ebpf.Program) {
		// A test run of an fmod_ret program calls
		// bpf_modify_return_test.
		_, err := prog.Run(&ebpf.RunOptions{})
		qt.Assert(t, qt.IsNil(err))
	}
	if !modifiable(t, obj) {
		// Without CONFIG_FUNCTION_ERROR_INJECTION only security_* hooks
		// take fmod_ret programs: probe one that open(2) reaches.
		t.Log("bpf_modify_return_test is not modifiable here: using security_file_open")
		obj.spec.Programs["on_fmod_ret"].AttachTo = "security_file_open"
		trigger = func(*ebpf.Program) {
			f, err := os.Open("/dev/null")
			qt.Assert(t, qt.IsNil(err))
			f.Close()
		}
	}
	prog := obj.program("on_fmod_ret")
	l, err := AttachTracing(TracingOptions{Program: prog, AttachType: ebpf.AttachModifyReturn})
	qt.Assert(t, qt.IsNil(err))
	keep(t, l)
	trigger(prog)
	qt.Assert(t, qt.IsTrue(obj.counter("fmod_ret_count") >= 1))
	mustClose(t, l)
}

// modifiable reports whether the kernel lets on_fmod_ret attach to its
// target: it refuses functions outside the error injection list and the
// security_* hooks at load, with EINVAL.
func modifiable(t *testing.T, obj *object) bool {
	t.Helper()
	prog, err := obj.load("on_fmod_ret")
	if err == nil {
		prog.Close()
		return true
	}
	testutils.SkipIfForbidden(t, err, "tracing programs")
	if strings.Contains(err.Error(), "is not modifiable") {
		return false
	}
	testutils.SkipIfNotSupported(t, err)
	t.Fatal(err)
	return false
}

func TestTpBTF(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	obj.set("target_tgid", uint32(os.Getpid()))
	// on_tp_btf reads nothing of its context: it attaches to task_rename
	// as well as to the sys_enter of its section (see tpName).
	prog := obj.program("on_tp_btf", func(ps *ebpf.ProgramSpec) { ps.AttachTo = tpName })

	for _, attach := range []ebpf.AttachType{ebpf.AttachNone, ebpf.AttachTraceRawTp} {
		obj.reset("tp_btf_count")
		l, err := AttachTracing(TracingOptions{Program: prog, AttachType: attach})
		qt.Assert(t, qt.IsNil(err))
		keep(t, l)
		renames(t, 5)
		qt.Assert(t, qt.IsTrue(obj.counter("tp_btf_count") >= 5))
		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.Type, RawTracepointType))
		qt.Assert(t, qt.Equals(info.RawTracepoint().Name, tpName))
		pinAndReload(t, l)
		mustClose(t, l)
		before := obj.counter("tp_btf_count")
		renames(t, 5)
		qt.Assert(t, qt.Equals(obj.counter("tp_btf_count"), before))
	}

	t.Run("cookie", func(t *testing.T) {
		l, err := AttachTracing(TracingOptions{Program: prog, AttachType: ebpf.AttachTraceRawTp, Cookie: 9})
		skipUnlessSupported(t, err)
		keep(t, l)
		obj.reset("tp_btf_count")
		renames(t, 2)
		qt.Assert(t, qt.IsTrue(obj.counter("tp_btf_count") >= 2))
		mustClose(t, l)
	})
}

func TestTracingErrors(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	prog := obj.program("on_tp_btf")
	kp := obj.program("kp")

	_, err := AttachTracing(TracingOptions{})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachTracing(TracingOptions{Program: kp})
	qt.Assert(t, qt.ErrorMatches(err, `.*want Tracing`))
	_, err = AttachTracing(TracingOptions{Program: prog, AttachType: ebpf.AttachTraceIter})
	qt.Assert(t, qt.ErrorMatches(err, `.*use AttachIter`))
	_, err = AttachTracing(TracingOptions{Program: prog, AttachType: ebpf.AttachXDP})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachLSM(LSMOptions{Program: prog})
	qt.Assert(t, qt.ErrorMatches(err, `.*want LSM`))
	_, err = AttachLSM(LSMOptions{})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachFreplace(nil, "", prog)
	qt.Assert(t, qt.ErrorMatches(err, `.*want Extension`))
	_, err = AttachFreplace(nil, "", nil)
	qt.Assert(t, qt.IsNotNil(err))
}

// requireBPFLSM skips unless the BPF LSM is active: LSM programs attach
// everywhere, but only run when "bpf" is in the kernel's lsm= list.
func requireBPFLSM(t *testing.T) {
	t.Helper()
	const securityfs = "/sys/kernel/security"
	raw, err := os.ReadFile(securityfs + "/lsm")
	if os.IsNotExist(err) {
		if merr := unix.Mount("securityfs", securityfs, "securityfs", 0, ""); merr == nil {
			t.Cleanup(func() { unix.Unmount(securityfs, 0) })
		}
		raw, err = os.ReadFile(securityfs + "/lsm")
	}
	if err != nil {
		t.Skipf("can't read the active LSMs: %v", err)
	}
	if !strings.Contains(","+strings.TrimSpace(string(raw))+",", ",bpf,") {
		t.Skipf("the BPF LSM is not active (lsm=%s; boot with bpf in lsm=)", strings.TrimSpace(string(raw)))
	}
}

func TestLSM(t *testing.T) {
	obj := loadObject(t, "link_tracing")
	prog := obj.program("on_file_open")
	requireBPFLSM(t)

	l, err := AttachLSM(LSMOptions{Program: prog})
	qt.Assert(t, qt.IsNil(err))
	keep(t, l)
	f, err := os.Open("/dev/null")
	qt.Assert(t, qt.IsNil(err))
	f.Close()
	qt.Assert(t, qt.IsTrue(obj.counter("lsm_count") >= 1))
	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Tracing().AttachType, ebpf.AttachLSMMac))
	pinAndReload(t, l)
	mustClose(t, l)
}

func TestFreplace(t *testing.T) {
	target := loadObject(t, "link_freplace_target").program("freplace_entry")
	packet := make([]byte, 64)
	ret, _, err := target.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(ret, 8))

	ext := loadObject(t, "link_freplace")
	prog := ext.program("new_replace_me", func(ps *ebpf.ProgramSpec) {
		ps.AttachTarget = target
	})

	for _, viaTarget := range []bool{false, true} {
		var l Link
		if viaTarget {
			l, err = AttachFreplace(target, "replace_me", prog)
		} else {
			l, err = AttachFreplace(nil, "", prog)
		}
		qt.Assert(t, qt.IsNil(err))
		keep(t, l)
		ret, _, err = target.Test(packet)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(ret, 14))
		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.Type, TracingType))
		pinAndReload(t, l)
		mustClose(t, l)
		ret, _, err = target.Test(packet)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(ret, 8))
	}

	_, err = AttachFreplace(target, "bpfkit_no_such_function", prog)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachFreplace(target, "", prog)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachFreplace(nil, "replace_me", prog)
	qt.Assert(t, qt.IsNotNil(err))
}
