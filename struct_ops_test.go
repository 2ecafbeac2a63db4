package ebpf

import (
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// loadStructOpsSpec returns struct_ops.c's spec with names of this
// process, so that concurrent tests can't collide in the kernel's list of
// congestion controls.
func loadStructOpsSpec(t *testing.T) *CollectionSpec {
	t.Helper()
	spec := loadTestSpec(t, "struct_ops")
	prepareStructOpsSpec(t, spec)
	return spec
}

// prepareStructOpsSpec gives struct_ops.c's maps names of this process.
// Kernels before 6.4 can't create the .struct_ops.link map: there it
// checks that loading the whole object fails with an error wrapping
// ErrNotSupported that names the feature, and leaves bpfkit_cc_link out.
func prepareStructOpsSpec(t *testing.T, spec *CollectionSpec) {
	t.Helper()
	for _, name := range []string{"bpfkit_cc", "bpfkit_cc_link"} {
		setStructOpsName(t, spec.Maps[name], structOpsTestName(name))
	}
	if !kernelBefore(t, "6.4") {
		qt.Assert(t, qt.IsNil(haveStructOpsLinkMaps()))
		return
	}
	done := testutils.CheckNoOpenFDs(t)
	coll, err := NewCollection(spec)
	if err == nil {
		closeFaultCollection(t, coll)
	}
	done()
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
	qt.Assert(t, qt.ErrorMatches(err, `map "bpfkit_cc_link": create: struct_ops maps with BPF_F_LINK not supported \(requires >= v6\.4\)`))
	qt.Assert(t, qt.IsFalse(slices.Contains(availableCongestionControl(t), structOpsTestName("bpfkit_cc"))))
	t.Log("struct_ops maps with BPF_F_LINK need Linux 6.4: leaving out bpfkit_cc_link")
	delete(spec.Maps, "bpfkit_cc_link")
}

// kernelBefore reports whether the running kernel is older than version.
func kernelBefore(t *testing.T, version string) bool {
	t.Helper()
	v, err := internal.KernelVersion()
	qt.Assert(t, qt.IsNil(err))
	min, err := internal.NewVersion(version)
	qt.Assert(t, qt.IsNil(err))
	return v.Less(min)
}

func TestStructOpsLoadAndAssign(t *testing.T) {
	testutils.RequireRoot(t)
	spec := loadStructOpsSpec(t)
	// Run the feature probes before counting.
	coll, err := NewCollection(spec)
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	closeFaultCollection(t, coll)

	var objs struct {
		CC *Map `ebpf:"bpfkit_cc"`
	}
	progs, _ := countLoads(t, func() {
		err = spec.LoadAndAssign(&objs, nil)
	})
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() {
		// Unregister even when an assertion fails.
		_ = objs.CC.Delete(uint32(0))
		objs.CC.Close()
	})
	// The map brings the four programs it points at.
	qt.Assert(t, qt.Equals(progs, 4))
	qt.Assert(t, qt.IsTrue(slices.Contains(availableCongestionControl(t), structOpsTestName("bpfkit_cc"))))
	qt.Assert(t, qt.IsNil(objs.CC.Delete(uint32(0))))
	qt.Assert(t, qt.IsFalse(slices.Contains(availableCongestionControl(t), structOpsTestName("bpfkit_cc"))))
}

// withUserType replaces the value type of a struct_ops map by a copy that
// change modifies.
func withUserType(t *testing.T, ms *MapSpec, change func(st *btf.Struct)) {
	t.Helper()
	st, ok := btf.As[*btf.Struct](ms.Value)
	qt.Assert(t, qt.IsTrue(ok))
	cpy := *st
	cpy.Members = slices.Clone(st.Members)
	change(&cpy)
	ms.Value = &cpy
}

func memberIndex(t *testing.T, st *btf.Struct, name string) int {
	t.Helper()
	i := slices.IndexFunc(st.Members, func(m btf.Member) bool { return m.Name == name })
	qt.Assert(t, qt.Not(qt.Equals(i, -1)))
	return i
}

func TestStructOpsErrors(t *testing.T) {
	testutils.RequireRoot(t)

	for _, test := range []struct {
		name    string
		prepare func(t *testing.T, spec *CollectionSpec)
		want    string
		is      error
	}{
		{
			name: "member the kernel lacks, with a value",
			prepare: func(t *testing.T, spec *CollectionSpec) {
				ms := spec.Maps["bpfkit_cc"]
				withUserType(t, ms, func(st *btf.Struct) {
					i := memberIndex(t, st, "flags")
					st.Members[i].Name = "bpfkit_bogus"
					value := ms.Contents[0].Value.([]byte)
					internal.NativeEndian.PutUint32(value[st.Members[i].Offset.Bytes():], 1)
				})
			},
			want: `map "bpfkit_cc": tcp_congestion_ops.bpfkit_bogus: the kernel's struct tcp_congestion_ops has no such member: .*`,
			is:   ErrNotSupported,
		},
		{
			name: "two programs for one member, found by AttachTo",
			prepare: func(t *testing.T, spec *CollectionSpec) {
				p := spec.Programs["bpfkit_init"].Copy()
				p.Name = "bpfkit_init2"
				spec.Programs[p.Name] = p
				spec.Maps["bpfkit_cc"].StructOpsPrograms = nil
			},
			want: `map "bpfkit_cc": tcp_congestion_ops.init: programs "bpfkit_init" and "bpfkit_init2" both implement it`,
		},
		{
			name: "missing program",
			prepare: func(t *testing.T, spec *CollectionSpec) {
				spec.Maps["bpfkit_cc"].StructOpsPrograms["init"] = "nope"
			},
			want: `map "bpfkit_cc": tcp_congestion_ops.init: missing program "nope"`,
		},
		{
			name: "program of another member",
			prepare: func(t *testing.T, spec *CollectionSpec) {
				spec.Maps["bpfkit_cc"].StructOpsPrograms["init"] = "bpfkit_ssthresh"
			},
			want: `map "bpfkit_cc": tcp_congestion_ops.init: program "bpfkit_ssthresh" implements "tcp_congestion_ops:ssthresh", not "tcp_congestion_ops:init"`,
		},
		{
			name: "not a struct_ops program",
			prepare: func(t *testing.T, spec *CollectionSpec) {
				spec.Programs["bpfkit_sock"] = &ProgramSpec{Name: "bpfkit_sock", Type: SocketFilter, License: "GPL",
					Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}}
				spec.Maps["bpfkit_cc"].StructOpsPrograms["init"] = "bpfkit_sock"
			},
			want: `map "bpfkit_cc": tcp_congestion_ops.init: program "bpfkit_sock" is a SocketFilter program, not StructOps`,
		},
		{
			name: "data member of another size",
			prepare: func(t *testing.T, spec *CollectionSpec) {
				withUserType(t, spec.Maps["bpfkit_cc"], func(st *btf.Struct) {
					i := memberIndex(t, st, "flags")
					st.Members[i].Type = &btf.Int{Name: "u16", Size: 2}
				})
			},
			want: `map "bpfkit_cc": tcp_congestion_ops.flags: 2 bytes, the kernel's member 4`,
		},
	} {
		t.Run(test.name, func(t *testing.T) {
			spec := loadStructOpsSpec(t)
			test.prepare(t, spec)
			done := testutils.CheckNoOpenFDs(t)
			coll, err := NewCollection(spec)
			if err == nil {
				closeFaultCollection(t, coll)
			}
			done()
			qt.Assert(t, qt.ErrorMatches(err, test.want))
			if test.is != nil {
				qt.Assert(t, qt.ErrorIs(err, test.is))
			}
			qt.Assert(t, qt.IsFalse(slices.Contains(availableCongestionControl(t), structOpsTestName("bpfkit_cc"))))
		})
	}

	t.Run("member the kernel lacks, zero", func(t *testing.T) {
		spec := loadStructOpsSpec(t)
		withUserType(t, spec.Maps["bpfkit_cc"], func(st *btf.Struct) {
			st.Members[memberIndex(t, st, "flags")].Name = "bpfkit_bogus"
		})
		coll, err := NewCollection(spec)
		qt.Assert(t, qt.IsNil(err))
		closeFaultCollection(t, coll)
	})
}

// TestStructOpsMapCreate creates struct_ops maps directly: with BPF_F_LINK
// (Linux 6.4; before, the error names the feature), and with sizes the
// kernel refuses.
func TestStructOpsMapCreate(t *testing.T) {
	testutils.RequireRoot(t)
	ops := &btf.Struct{Name: "tcp_congestion_ops", Size: 8}
	spec := &MapSpec{Name: "link_ops", Type: StructOpsMap, Flags: sys.BPF_F_LINK, Value: ops}
	m, err := NewMap(spec)
	if kernelBefore(t, "6.4") {
		qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
		qt.Assert(t, qt.ErrorMatches(err, `map "link_ops": create: struct_ops maps with BPF_F_LINK not supported \(requires >= v6\.4\)`))
	} else {
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(m.Flags(), uint32(sys.BPF_F_LINK)))
		qt.Assert(t, qt.IsNil(m.Close()))
	}

	for _, tt := range []struct {
		name string
		spec *MapSpec
	}{
		{"max entries", &MapSpec{Name: "x", Type: StructOpsMap, MaxEntries: 2, Value: ops}},
		{"key size", &MapSpec{Name: "x", Type: StructOpsMap, KeySize: 8, Value: ops}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMap(tt.spec)
			qt.Assert(t, qt.ErrorMatches(err, `map "x": create: invalid argument \(StructOpsMap maps need KeySize 4 and MaxEntries 1\)`))
		})
	}
}

// TestStructOpsProgramsSpec checks which program each member of the
// struct_ops maps points at: struct_ops_two's maps share a struct type
// and point "init" at different programs.
func TestStructOpsProgramsSpec(t *testing.T) {
	for _, order := range []string{"el", "eb"} {
		t.Run(order, func(t *testing.T) {
			spec := mustLoad(t, "struct_ops_two", order)
			shared := map[string]string{"ssthresh": "two_ssthresh", "cong_avoid": "two_cong_avoid", "undo_cwnd": "two_undo_cwnd"}
			one := maps.Clone(shared)
			one["init"], one["release"] = "one_init", "one_release"
			two := maps.Clone(shared)
			two["init"] = "two_init"
			qt.Assert(t, qt.DeepEquals(spec.Maps["bpfkit_one"].StructOpsPrograms, one))
			qt.Assert(t, qt.DeepEquals(spec.Maps["bpfkit_two"].StructOpsPrograms, two))
			attachTo := map[string]string{}
			for name, ps := range spec.Programs {
				attachTo[name] = ps.AttachTo
			}
			qt.Assert(t, qt.DeepEquals(attachTo, map[string]string{
				"one_init": "tcp_congestion_ops:init", "two_init": "tcp_congestion_ops:init",
				"one_release": "tcp_congestion_ops:release", "two_ssthresh": "tcp_congestion_ops:ssthresh",
				"two_cong_avoid": "tcp_congestion_ops:cong_avoid", "two_undo_cwnd": "tcp_congestion_ops:undo_cwnd",
			}))

			// Copies don't share the binding.
			cpy := spec.Maps["bpfkit_two"].Copy()
			cpy.StructOpsPrograms["init"] = "one_init"
			qt.Assert(t, qt.Equals(spec.Maps["bpfkit_two"].StructOpsPrograms["init"], "two_init"))
		})
	}

	spec := mustLoad(t, "struct_ops", "el")
	want := map[string]string{"init": "bpfkit_init", "ssthresh": "bpfkit_ssthresh", "cong_avoid": "bpfkit_cong_avoid", "undo_cwnd": "bpfkit_undo_cwnd"}
	qt.Assert(t, qt.DeepEquals(spec.Maps["bpfkit_cc"].StructOpsPrograms, want))
	qt.Assert(t, qt.DeepEquals(spec.Maps["bpfkit_cc_link"].StructOpsPrograms, want))
}

// structOpsTwoName is a congestion control name unique to this process
// for struct_ops_two's map name.
func structOpsTwoName(mapName string) string {
	return "bk" + strings.TrimPrefix(mapName, "bpfkit_")[:2] + strconv.Itoa(os.Getpid())
}

// prepareStructOpsTwo gives struct_ops_two's maps names of this process.
func prepareStructOpsTwo(t *testing.T, spec *CollectionSpec) {
	t.Helper()
	for _, name := range []string{"bpfkit_one", "bpfkit_two"} {
		setStructOpsName(t, spec.Maps[name], structOpsTwoName(name))
	}
}

// checkStructOpsTwo opens TCP connections over loopback with each of
// struct_ops_two's congestion controls: each calls the init program of
// its own map, and only bpfkit_one has a release program.
func checkStructOpsTwo(t *testing.T, _ *CollectionSpec, coll *Collection) {
	for _, name := range []string{"bpfkit_one", "bpfkit_two"} {
		m := coll.Maps[name]
		t.Cleanup(func() { _ = m.Delete(uint32(0)) })
	}
	algs := availableCongestionControl(t)
	for _, name := range []string{"bpfkit_one", "bpfkit_two"} {
		qt.Assert(t, qt.IsTrue(slices.Contains(algs, structOpsTwoName(name))), qt.Commentf("%v", algs))
	}

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	qt.Assert(t, qt.IsNil(err))
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	counts := func() [3]uint64 {
		return [3]uint64{variableUint(t, coll, "one_inits"), variableUint(t, coll, "two_inits"), variableUint(t, coll, "one_releases")}
	}

	tcpConnectWith(t, structOpsTwoName("bpfkit_two"), port)
	qt.Assert(t, qt.Equals(counts(), [3]uint64{0, 1, 0}))
	tcpConnectWith(t, structOpsTwoName("bpfkit_one"), port)
	got := counts()
	qt.Assert(t, qt.Equals([2]uint64(got[:2]), [2]uint64{1, 1}))
	// Linux 6.1 releases the congestion control twice for a reset
	// connection (on disconnect and on destroy); 6.18 once.
	qt.Assert(t, qt.IsTrue(got[2] >= 1), qt.Commentf("releases: %d", got[2]))
}

// tcpConnectWith connects a TCP socket using the congestion control cc to
// port on 127.0.0.1 and resets the connection: the kernel initializes
// the congestion control when the connection is established, before
// connect returns, and releases it when the reset destroys the socket,
// before close returns.
func tcpConnectWith(t *testing.T, cc string, port int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	qt.Assert(t, qt.IsNil(err))
	closed := false
	defer func() {
		if !closed {
			unix.Close(fd)
		}
	}()
	qt.Assert(t, qt.IsNil(unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, cc)))
	qt.Assert(t, qt.IsNil(unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})))
	got, err := unix.GetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(strings.TrimRight(got, "\x00"), cc))
	// Linger 0: close sends a reset and destroys the socket at once.
	qt.Assert(t, qt.IsNil(unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})))
	closed = true
	qt.Assert(t, qt.IsNil(unix.Close(fd)))
}

// TestStructOpsKernelType finds the kernel's value struct of
// tcp_congestion_ops in a btf.Cache: the types are the cache's own, as a
// collection's programs and maps share them.
func TestStructOpsKernelType(t *testing.T) {
	c := btf.NewCache()
	kernel, err := c.Kernel()
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	var value *btf.Struct
	if err := kernel.TypeByName("bpf_struct_ops_tcp_congestion_ops", &value); err != nil {
		t.Skip("kernel BTF without bpf_struct_ops_tcp_congestion_ops (CONFIG_BPF_JIT, CONFIG_INET):", err)
	}
	id, err := kernel.TypeID(value)
	qt.Assert(t, qt.IsNil(err))

	got, err := structOpsKernelTypeOf(c, &btf.Typedef{Name: "ops_t", Type: &btf.Struct{Name: "tcp_congestion_ops"}})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(got.value, value))
	qt.Assert(t, qt.Equals(got.valueID, id))
	qt.Assert(t, qt.Equals(got.ops.Name, "tcp_congestion_ops"))
	i := slices.IndexFunc(value.Members, func(m btf.Member) bool { return m.Name == "data" })
	qt.Assert(t, qt.Not(qt.Equals(i, -1)))
	qt.Assert(t, qt.Equals(got.opsOffset, value.Members[i].Offset.Bytes()))

	for _, tt := range []struct {
		name string
		typ  btf.Type
		want string
		is   error
	}{
		{"no type", nil, `the Value type must be the named struct the map implements`, nil},
		{"anonymous", &btf.Struct{}, `the Value type must be the named struct the map implements`, nil},
		{"union", &btf.Union{Name: "tcp_congestion_ops"}, `the Value type must be the named struct the map implements`, nil},
		{"unknown", &btf.Struct{Name: "no_such_ops"}, `the kernel has no struct_ops type no_such_ops \(bpf_struct_ops_no_such_ops is not in its BTF; types of kernel modules are not supported\): not supported`, ErrNotSupported},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := structOpsKernelTypeOf(c, tt.typ)
			qt.Assert(t, qt.ErrorMatches(err, tt.want))
			if tt.is != nil {
				qt.Assert(t, qt.ErrorIs(err, tt.is))
			}
		})
	}
}
