package typeprobe

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/kconfig"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestMain(m *testing.M) { testutils.TestMain(m) }

// mapType and progType stand in for the root package's types: the kernel's
// value with a Go name.
type mapType uint32

func (mt mapType) String() string {
	return strings.TrimPrefix(sys.MapType(mt).String(), "BPF_MAP_TYPE_")
}

type progType uint32

func (pt progType) String() string {
	return strings.TrimPrefix(sys.ProgType(pt).String(), "BPF_PROG_TYPE_")
}

// countCalls returns how many bpf(2) calls fn makes.
func countCalls(fn func()) int {
	n := 0
	restore := sys.InjectFaults(func(sys.Cmd, int) error {
		n++
		return nil
	})
	defer restore()
	fn()
	return n
}

// TestHaveMapType probes every map type of the UAPI: this kernel (6.18)
// has them all, older ones what their version says. A second call makes
// no system call.
func TestHaveMapType(t *testing.T) {
	testutils.RequireRoot(t)
	for mt := mapType(sys.BPF_MAP_TYPE_HASH); mt <= mapType(sys.BPF_MAP_TYPE_ARENA); mt++ {
		t.Run(mt.String(), func(t *testing.T) {
			version, ok := MapTypeVersion(sys.MapType(mt))
			qt.Assert(t, qt.IsTrue(ok))
			err := HaveMapType(mt)
			testutils.SkipIfForbidden(t, err, MapTypeName(sys.MapType(mt))+" maps")
			if KernelAtLeast(version) {
				qt.Assert(t, qt.IsNil(err))
			} else {
				qt.Assert(t, qt.ErrorIs(err, internal.ErrNotSupported))
				qt.Assert(t, qt.ErrorMatches(err, regexp.QuoteMeta(MapTypeName(sys.MapType(mt)))+` not supported \(requires >= v`+version+`\)`))
			}
			qt.Assert(t, qt.Equals(countCalls(func() { qt.Assert(t, qt.Equals(HaveMapType(mt), err)) }), 0))
		})
	}
	for _, mt := range []mapType{0, mapType(sys.BPF_MAP_TYPE_ARENA) + 100} {
		err := HaveMapType(mt)
		qt.Assert(t, qt.ErrorIs(err, ErrUnknown))
		qt.Assert(t, qt.IsFalse(errors.Is(err, internal.ErrNotSupported)))
	}
}

// TestHaveProgType probes every program type that needs no attach target.
// LircMode2 needs CONFIG_BPF_LIRC_MODE2.
func TestHaveProgType(t *testing.T) {
	testutils.RequireRoot(t)
	cfg, _ := kconfig.ParseKernel(map[string]struct{}{"CONFIG_BPF_LIRC_MODE2": {}})
	for pt, info := range ProgTypes() {
		pt := progType(pt)
		t.Run(pt.String(), func(t *testing.T) {
			err := HaveProgType(pt)
			switch {
			case info.NeedsTarget:
				qt.Assert(t, qt.ErrorIs(err, ErrUnknown))
			case !KernelAtLeast(info.Version):
				qt.Assert(t, qt.ErrorMatches(err, regexp.QuoteMeta(ProgTypeName(sys.ProgType(pt)))+` not supported \(requires >= v`+info.Version+`\)`))
			case sys.ProgType(pt) == sys.BPF_PROG_TYPE_LIRC_MODE2 && cfg["CONFIG_BPF_LIRC_MODE2"] != "y":
				qt.Assert(t, qt.ErrorIs(err, internal.ErrNotSupported))
				qt.Assert(t, qt.ErrorMatches(err, `program type lirc_mode2 \(not built into this kernel, though it is newer than v4.18\) not supported`))
			default:
				qt.Assert(t, qt.IsNil(err))
			}
		})
	}
	err := HaveProgType(progType(1000))
	qt.Assert(t, qt.ErrorIs(err, ErrUnknown))
	qt.Assert(t, qt.IsFalse(errors.Is(err, internal.ErrNotSupported)))
}

// TestHaveMapFlag probes every map flag of the table: kernels since its
// version accept it. A second call makes no system call.
func TestHaveMapFlag(t *testing.T) {
	testutils.RequireRoot(t)
	for flag, f := range mapFlags {
		t.Run(f.name, func(t *testing.T) {
			version, ok := MapFlagVersion(flag)
			qt.Assert(t, qt.IsTrue(ok))
			err := HaveMapFlag(flag)
			if KernelAtLeast(version) {
				qt.Assert(t, qt.IsNil(err))
			} else {
				qt.Assert(t, qt.ErrorIs(err, internal.ErrNotSupported))
				qt.Assert(t, qt.ErrorMatches(err, `map flag BPF_F_\w+ \([^)]+\) not supported \(requires >= v`+version+`\)`))
			}
			qt.Assert(t, qt.Equals(countCalls(func() { qt.Assert(t, qt.Equals(HaveMapFlag(flag), err)) }), 0))
		})
	}
	for _, flag := range []uint32{0, sys.BPF_F_NO_PREALLOC | sys.BPF_F_MMAPABLE, 1 << 30} {
		err := HaveMapFlag(flag)
		qt.Assert(t, qt.ErrorIs(err, ErrUnknown))
		qt.Assert(t, qt.IsFalse(errors.Is(err, internal.ErrNotSupported)))
		_, ok := MapFlagVersion(flag)
		qt.Assert(t, qt.IsFalse(ok))
	}
	qt.Assert(t, qt.ErrorMatches(HaveMapFlag(1<<30), `map flag 0x40000000: no probe known`))

	// A flag no kernel has yet: the error names it and the kernel.
	future := newMapFlag(1<<30, "BPF_F_FUTURE", "tomorrow's maps", "99.0", sys.BPF_MAP_TYPE_ARRAY)
	err := future.result(future.name)
	qt.Assert(t, qt.ErrorIs(err, internal.ErrNotSupported))
	qt.Assert(t, qt.ErrorMatches(err, `map flag BPF_F_FUTURE \(tomorrow's maps\) not supported \(requires >= v99.0\)`))
}

func TestConfigured(t *testing.T) {
	notThere := func() error { return internal.ErrNotSupported }
	for _, tc := range []struct {
		version string
		err     string
	}{
		// The running kernel is newer: it was built without the feature.
		{"3.1", `thing \(not built into this kernel, though it is newer than v3.1\) not supported`},
		// A kernel from the future has it.
		{"99.0", `thing not supported \(requires >= v99.0\)`},
	} {
		test := internal.NewFeatureTest("thing", Configured("thing", tc.version, notThere), tc.version)
		err := test()
		qt.Assert(t, qt.ErrorIs(err, internal.ErrNotSupported))
		qt.Assert(t, qt.ErrorMatches(err, tc.err))
	}

	// Other errors pass through, unmemoized.
	calls := 0
	test := internal.NewFeatureTest("thing", Configured("thing", "3.1", func() error {
		calls++
		return os.ErrPermission
	}), "3.1")
	qt.Assert(t, qt.ErrorIs(test(), os.ErrPermission))
	qt.Assert(t, qt.ErrorIs(test(), os.ErrPermission))
	qt.Assert(t, qt.Equals(calls, 2))
}

func TestCreateMap(t *testing.T) {
	testutils.RequireRoot(t)
	qt.Assert(t, qt.IsNil(CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1})))
	qt.Assert(t, qt.Equals(CreateMap(&sys.MapCreateAttr{MapType: sys.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1, MapFlags: 1 << 30}), internal.ErrNotSupported))
	qt.Assert(t, qt.IsNil(LoadProgram(sys.BPF_PROG_TYPE_SOCKET_FILTER, 0, 0)))
	qt.Assert(t, qt.Equals(LoadProgram(sys.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 1000, 0), internal.ErrNotSupported))
}

func TestTypeNames(t *testing.T) {
	qt.Assert(t, qt.Equals(MapTypeName(sys.BPF_MAP_TYPE_RINGBUF), "map type ringbuf"))
	qt.Assert(t, qt.Equals(MapTypeName(sys.BPF_MAP_TYPE_PERCPU_ARRAY), "map type percpu_array"))
	qt.Assert(t, qt.Equals(ProgTypeName(sys.BPF_PROG_TYPE_SCHED_CLS), "program type sched_cls"))
	qt.Assert(t, qt.Equals(ProgTypeName(sys.BPF_PROG_TYPE_NETFILTER), "program type netfilter"))
}
