package features

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/kconfig"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
	"github.com/bpfkit/ebpf/internal/typeprobe"
	"github.com/bpfkit/ebpf/rlimit"
)

func TestMain(m *testing.M) { testutils.TestMain(m, rlimit.RemoveMemlock) }

// checkPresent fails unless err is nil; a program type this kernel
// forbids even to root skips.
func checkPresent(t *testing.T, err error, kind string) {
	t.Helper()
	testutils.SkipIfForbidden(t, err, kind)
	qt.Assert(t, qt.IsNil(err))
}

// TestHaveMapType probes every map type of the UAPI: this kernel (6.18)
// has them all; older kernels (the VM tests) lack those newer than them,
// and the error names the kernel that has them.
func TestHaveMapType(t *testing.T) {
	testutils.RequireRoot(t)
	for mt := ebpf.Hash; mt <= ebpf.Arena; mt++ {
		t.Run(mt.String(), func(t *testing.T) {
			version, ok := typeprobe.MapTypeVersion(sys.MapType(mt))
			qt.Assert(t, qt.IsTrue(ok))
			err := HaveMapType(mt)
			testutils.SkipIfForbidden(t, err, typeprobe.MapTypeName(sys.MapType(mt))+" maps")
			if typeprobe.KernelAtLeast(version) {
				qt.Assert(t, qt.IsNil(err))
			} else {
				qt.Assert(t, qt.ErrorIs(err, ebpf.ErrNotSupported))
				qt.Assert(t, qt.ErrorMatches(err, regexp.QuoteMeta(typeprobe.MapTypeName(sys.MapType(mt)))+` not supported \(requires >= v`+version+`\)`))
			}
			// Memoized: the same answer again.
			qt.Assert(t, qt.Equals(HaveMapType(mt), err))
		})
	}
}

func TestHaveMapTypeUnknown(t *testing.T) {
	for _, mt := range []ebpf.MapType{ebpf.UnspecifiedMap, ebpf.Arena + 1} {
		err := HaveMapType(mt)
		qt.Assert(t, qt.IsNotNil(err))
		qt.Assert(t, qt.IsFalse(errors.Is(err, ebpf.ErrNotSupported)))
	}
}

func TestHaveMapFlag(t *testing.T) {
	testutils.RequireRoot(t)
	for _, flag := range []MapFlags{BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BPF_F_MMAPABLE, BPF_F_INNER_MAP} {
		t.Run(fmt.Sprint(flag), func(t *testing.T) {
			err := HaveMapFlag(flag)
			if version, _ := typeprobe.MapFlagVersion(uint32(flag)); !typeprobe.KernelAtLeast(version) {
				qt.Assert(t, qt.ErrorIs(err, ebpf.ErrNotSupported))
				qt.Assert(t, qt.ErrorMatches(err, `map flag BPF_F_\w+ \(.*\) not supported \(requires >= v`+version+`\)`))
				return
			}
			qt.Assert(t, qt.IsNil(err))
		})
	}
	err := HaveMapFlag(1 << 30)
	qt.Assert(t, qt.IsNotNil(err))
	qt.Assert(t, qt.IsFalse(errors.Is(err, ebpf.ErrNotSupported)))
}

// TestHaveProgramType probes every program type of the UAPI: this kernel
// has them all, but may forbid tracing, LSM and extension programs, and
// LircMode2 needs CONFIG_BPF_LIRC_MODE2. Older kernels lack the types
// newer than them.
func TestHaveProgramType(t *testing.T) {
	testutils.RequireRoot(t)
	lirc := kernelConfig(t, "CONFIG_BPF_LIRC_MODE2")
	for pt := ebpf.SocketFilter; pt <= ebpf.Netfilter; pt++ {
		t.Run(pt.String(), func(t *testing.T) {
			err := HaveProgramType(pt)
			if version := typeprobe.ProgTypes()[sys.ProgType(pt)].Version; !typeprobe.KernelAtLeast(version) {
				qt.Assert(t, qt.ErrorIs(err, ebpf.ErrNotSupported))
				qt.Assert(t, qt.ErrorMatches(err, regexp.QuoteMeta(typeprobe.ProgTypeName(sys.ProgType(pt)))+` not supported \(requires >= v`+version+`\)`))
				return
			}
			if pt == ebpf.LircMode2 && lirc != "y" {
				qt.Assert(t, qt.ErrorIs(err, ebpf.ErrNotSupported))
				qt.Assert(t, qt.ErrorMatches(err, `program type lirc_mode2 \(not built into this kernel, though it is newer than v4.18\) not supported`))
				return
			}
			checkPresent(t, err, pt.String())
		})
	}
	qt.Assert(t, qt.HasLen(typeprobe.ProgTypes(), int(ebpf.Netfilter)))
	err := HaveProgramType(ebpf.UnspecifiedProgram)
	qt.Assert(t, qt.IsNotNil(err))
	qt.Assert(t, qt.IsFalse(errors.Is(err, ebpf.ErrNotSupported)))
}

func TestHaveProgramHelper(t *testing.T) {
	testutils.RequireRoot(t)
	for _, tc := range []struct {
		pt     ebpf.ProgramType
		helper asm.BuiltinFunc
		err    string // "" if present
	}{
		{ebpf.XDP, asm.FnMapLookupElem, ""},
		{ebpf.XDP, asm.FnKtimeGetNs, ""},
		{ebpf.XDP, asm.FnRingbufOutput, ""},
		{ebpf.XDP, asm.FnXdpAdjustHead, ""},
		{ebpf.XDP, asm.FnProbeWriteUser, `helper FnProbeWriteUser for program type XDP \(the kernel has it but refuses it here: wrong program type, or lockdown\) not supported`},
		{ebpf.XDP, asm.FnSkbStoreBytes, `helper FnSkbStoreBytes for program type XDP \(the kernel has it but refuses it here: wrong program type, or lockdown\) not supported`},
		{ebpf.XDP, asm.BuiltinFunc(9999), `helper BuiltinFunc\(9999\) for program type XDP not supported`},
		{ebpf.SocketFilter, asm.FnSkbLoadBytes, ""},
		{ebpf.SocketFilter, asm.FnGetSocketCookie, ""},
		{ebpf.SocketFilter, asm.FnRedirect, `helper FnRedirect for program type SocketFilter \(the kernel has it but refuses it here: wrong program type, or lockdown\) not supported`},
		{ebpf.SchedCLS, asm.FnSkbStoreBytes, ""},
		{ebpf.SchedCLS, asm.FnRedirect, ""},
		{ebpf.Kprobe, asm.FnGetCurrentComm, ""},
		{ebpf.Kprobe, asm.FnPerfEventOutput, ""},
		{ebpf.Kprobe, asm.FnGetCurrentPidTgid, ""},
		{ebpf.Kprobe, asm.FnXdpAdjustHead, `helper FnXdpAdjustHead for program type Kprobe \(the kernel has it but refuses it here: wrong program type, or lockdown\) not supported`},
		{ebpf.TracePoint, asm.FnGetStackid, ""},
		{ebpf.CGroupSockAddr, asm.FnBind, ""},
		{ebpf.CGroupSockopt, asm.FnGetCurrentCgroupId, ""},
		{ebpf.SkLookup, asm.FnSkAssign, ""},
		{ebpf.Syscall, asm.FnSysBpf, ""},
		{ebpf.Syscall, asm.FnRedirect, `helper FnRedirect for program type Syscall \(the kernel has it but refuses it here: wrong program type, or lockdown\) not supported`},
		{ebpf.Netfilter, asm.FnKtimeGetNs, ""},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.pt, tc.helper), func(t *testing.T) {
			testutils.SkipIfNotSupported(t, HaveProgramType(tc.pt))
			err := HaveProgramHelper(tc.pt, tc.helper)
			if tc.err == "" {
				qt.Assert(t, qt.IsNil(err))
				return
			}
			qt.Assert(t, qt.ErrorIs(err, ebpf.ErrNotSupported))
			qt.Assert(t, qt.ErrorMatches(err, tc.err))
			// Memoized: the same error again.
			qt.Assert(t, qt.Equals(HaveProgramHelper(tc.pt, tc.helper), err))
		})
	}
}

func TestHaveProgramHelperWithoutProbe(t *testing.T) {
	for _, pt := range []ebpf.ProgramType{ebpf.Tracing, ebpf.LSM, ebpf.Extension, ebpf.StructOps} {
		err := HaveProgramHelper(pt, asm.FnMapLookupElem)
		qt.Assert(t, qt.ErrorMatches(err, `no probe for helper FnMapLookupElem in program type `+pt.String()+`: the program needs an attach target`))
		qt.Assert(t, qt.IsFalse(errors.Is(err, ebpf.ErrNotSupported)))
	}
}

func TestHaveMisc(t *testing.T) {
	testutils.RequireRoot(t)
	for name, fn := range map[string]func() error{
		"LargeInstructions": HaveLargeInstructions,
		"BoundedLoops":      HaveBoundedLoops,
		"V2ISA":             HaveV2ISA,
		"V3ISA":             HaveV3ISA,
		"V4ISA":             HaveV4ISA,
	} {
		t.Run(name, func(t *testing.T) {
			qt.Assert(t, qt.IsNil(fn()))
		})
	}
}

// TestHaveLinks: uprobe_multi links work on this kernel; kprobe_multi and
// kprobe session links need CONFIG_FPROBE, and the answer must be
// conclusive either way.
func TestHaveLinks(t *testing.T) {
	testutils.RequireRoot(t)
	if err := HaveBPFLinkUprobeMulti(); kernelAtLeast(t, "6.6") {
		qt.Assert(t, qt.IsNil(err))
	} else {
		qt.Assert(t, qt.ErrorMatches(err, `uprobe_multi link not supported \(requires >= v6.6\)`))
	}

	fprobe := kernelConfig(t, "CONFIG_FPROBE")
	for name, fn := range map[string]func() error{
		"kprobe_multi":   HaveBPFLinkKprobeMulti,
		"kprobe session": HaveBPFLinkKprobeSession,
	} {
		t.Run(name, func(t *testing.T) {
			err := fn()
			if fprobe == "y" {
				qt.Assert(t, qt.IsNil(err))
				return
			}
			// On a kernel new enough for the link, the message is about
			// the kernel's configuration, not its version.
			qt.Assert(t, qt.ErrorIs(err, ebpf.ErrNotSupported))
			qt.Assert(t, qt.ErrorMatches(err, name+` link (\(a kernel built with CONFIG_FPROBE\) not supported|not supported \(requires >= v[0-9.]+\))`))
		})
	}
}

// kernelConfig returns the running kernel's value of name ("y", "m", ""
// when unset), and skips the test if the configuration can't be read.
func kernelConfig(t *testing.T, name string) string {
	t.Helper()
	values, err := kconfig.ParseKernel(map[string]struct{}{name: {}})
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("kernel configuration not found (/proc/config.gz, /boot/config-*):", err)
	}
	qt.Assert(t, qt.IsNil(err))
	return values[name]
}

func TestLinuxVersionCode(t *testing.T) {
	code, err := LinuxVersionCode()
	qt.Assert(t, qt.IsNil(err))
	v, err := internal.KernelVersion()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(code, v.Kernel()))
	qt.Assert(t, qt.IsTrue(code >= 6<<16), qt.Commentf("code %#x", code))
}

// kernelAtLeast reports whether the running kernel is version v or newer.
func kernelAtLeast(t *testing.T, v string) bool {
	t.Helper()
	want, err := internal.NewVersion(v)
	qt.Assert(t, qt.IsNil(err))
	have, err := internal.KernelVersion()
	qt.Assert(t, qt.IsNil(err))
	return !have.Less(want)
}
