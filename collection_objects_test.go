package ebpf

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/kallsyms"
	"github.com/bpfkit/ebpf/internal/kconfig"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// Every valid object in testdata/ is loaded as a collection and its
// programs are run under BPF_PROG_TEST_RUN where the program type allows
// it, with the results each object's top comment (and testdata/README.md)
// documents. Objects named err_* are the error tests of
// collection_errors_test.go; "sections" is a table of section names for
// the ELF reader and is not meant to load (its comment says so).

// objectTest is what one test object is checked for.
type objectTest struct {
	// opts returns the options to load with; nil means none.
	opts func(t *testing.T) CollectionOptions
	// prepare changes the spec before loading.
	prepare func(t *testing.T, spec *CollectionSpec)
	// check runs programs and inspects maps and variables.
	check func(t *testing.T, spec *CollectionSpec, coll *Collection)
	// loadError, if set, is called when loading fails and reports whether
	// the error is one the object's comment allows.
	loadError func(t *testing.T, err error) bool
}

// collPacket is a 64-byte packet of zeroes: a broadcast-free Ethernet frame
// whose destination MAC (all zero) belongs to lo.
var collPacket = make([]byte, 64)

var objectTests = map[string]objectTest{
	"bpfobj_default": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		for range 3 {
			qt.Assert(t, qt.Equals(testRun(t, coll, "xdp_count", collPacket), 2)) // XDP_PASS
		}
		qt.Check(t, qt.Equals(lookupU64(t, coll, "packets", uint32(0)), 3))
		qt.Check(t, qt.Equals(variableUint(t, coll, "bytes"), 3*64))
		qt.Check(t, qt.Equals(variableUint(t, coll, "runs"), 103))
		// The socket filter sees the packet without its Ethernet header.
		qt.Assert(t, qt.Equals(testRun(t, coll, "socket_count", collPacket), 50))
		qt.Check(t, qt.Equals(lookupU64(t, coll, "packets", uint32(0)), 4))
		qt.Check(t, qt.Equals(variableUint(t, coll, "bytes"), 242))
	}},

	"globals": {
		prepare: func(t *testing.T, spec *CollectionSpec) {
			qt.Assert(t, qt.IsNil(spec.Variables["ret_value"].Set(uint32(1234))))
		},
		check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
			for range 2 {
				qt.Assert(t, qt.Equals(testRun(t, coll, "read_globals", collPacket), 1234))
			}
			qt.Check(t, qt.Equals(variableUint(t, coll, "bss_u64"), 0x1122334455667788))
			var arr [4]uint32
			qt.Assert(t, qt.IsNil(coll.Variables["bss_arr"].Get(&arr)))
			qt.Check(t, qt.Equals(arr, [4]uint32{0xbeef, 44, 'a', 5}))
			qt.Check(t, qt.Equals(variableUint(t, coll, "data_u32"), 44))
			qt.Check(t, qt.Equals(variableUint(t, coll, "custom_u32"), 0xcafe+2))
			qt.Check(t, qt.Equals(variableUint(t, coll, "ret_value"), 1234))
			qt.Check(t, qt.IsNil(coll.Variables["static_counter"]))
		},
	},

	"subprogs": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		qt.Assert(t, qt.Equals(testRun(t, coll, "compute", collPacket), 65))
		for name, want := range map[string]uint64{"mul": 42, "add": 3, "loop_sum": 10, "each_sum": 10, "hidden": 5, "skb_len": 64} {
			qt.Check(t, qt.Equals(variableUint(t, coll, name), want), qt.Commentf("%s", name))
		}
		for k := uint32(0); k < 4; k++ {
			qt.Check(t, qt.Equals(lookupU64(t, coll, "numbers", k), uint64(k+1)))
		}
		qt.Assert(t, qt.Equals(testRun(t, coll, "second", collPacket), 11))
	}},

	"core": {check: checkCORE},

	"btf_core": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		qt.Assert(t, qt.Equals(testRun(t, coll, "core_shapes", collPacket), 0))
	}},

	"elf_refs": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		qt.Assert(t, qt.Equals(testRun(t, coll, "sum_table", collPacket), 194))
		qt.Assert(t, qt.Equals(testRun(t, coll, "optional", collPacket), 1))
	}},

	"btf_kinds": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		qt.Assert(t, qt.Equals(testRun(t, coll, "kinds", collPacket), 3))
	}},

	"kconfig": {check: checkKconfig},

	"ksyms": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		qt.Assert(t, qt.Equals(testRun(t, coll, "use_ksyms", collPacket), 0))
		addrs := map[string]uint64{"__start_BTF": 0, "__stop_BTF": 0}
		qt.Assert(t, qt.IsNil(kallsyms.AssignAddresses(addrs)))
		qt.Check(t, qt.Equals(variableUint(t, coll, "btf_start"), addrs["__start_BTF"]))
		qt.Check(t, qt.Equals(variableUint(t, coll, "btf_end"), addrs["__stop_BTF"]))
		qt.Check(t, qt.IsTrue(addrs["__stop_BTF"] > addrs["__start_BTF"]))
		qt.Check(t, qt.Equals(variableUint(t, coll, "missing_var"), 0))
		qt.Check(t, qt.Equals(variableUint(t, coll, "missing_kfunc"), 0))
		qt.Check(t, qt.Equals(variableUint(t, coll, "task_pid"), 2))
	}},

	"ksyms_typed": {
		prepare: func(t *testing.T, spec *CollectionSpec) {
			// The kernel finds typed ksyms through kallsyms, which lists
			// data symbols only with CONFIG_KALLSYMS_ALL.
			cfg, err := kconfig.ParseKernel(map[string]struct{}{"CONFIG_KALLSYMS_ALL": {}})
			if err != nil || cfg["CONFIG_KALLSYMS_ALL"] != "y" {
				coll, err := NewCollection(spec)
				if err == nil {
					coll.Close()
					t.Fatal("loaded without CONFIG_KALLSYMS_ALL")
				}
				qt.Assert(t, qt.ErrorIs(err, unix.ENOENT))
				qt.Assert(t, qt.ErrorMatches(err, `.*ldimm64 failed to find the address for kernel symbol 'runqueues'.*`))
				t.Skip("typed .ksyms variables need CONFIG_KALLSYMS_ALL, which this kernel's configuration doesn't set")
			}
		},
		check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
			qt.Assert(t, qt.Equals(testRun(t, coll, "use_typed", collPacket), 0))
			qt.Check(t, qt.Equals(variableUint(t, coll, "rq_cpu_ok"), 1))
			qt.Check(t, qt.Equals(variableUint(t, coll, "active_ok"), 1))
			qt.Check(t, qt.Equals(variableUint(t, coll, "missing"), 0))
		},
	},

	"kfuncs": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		ret, err := coll.Programs["use_kfuncs"].Run(&RunOptions{})
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(ret, 0))
		qt.Check(t, qt.Equals(variableUint(t, coll, "mask_weight"), 2))
		qt.Check(t, qt.Equals(variableUint(t, coll, "iter_sum"), 45))
		qt.Check(t, qt.Equals(variableUint(t, coll, "dynptr_size"), 16))
	}},

	"syscall": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		type args struct {
			A, B uint32
			Out  uint64
		}
		ctx := args{A: 6, B: 7}
		ret, err := coll.Programs["syscall_prog"].Run(&RunOptions{Context: &ctx})
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(ret, 42))
		qt.Check(t, qt.Equals(ctx.Out, 13))
		qt.Check(t, qt.Equals(variableUint(t, coll, "calls"), 1))
		_, err = coll.Programs["syscall_prog"].Run(&RunOptions{Context: make([]byte, 8)})
		qt.Check(t, qt.ErrorIs(err, unix.EINVAL))
	}},

	"map_arena": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		run := func() uint32 {
			ret, err := coll.Programs["arena_alloc"].Run(&RunOptions{})
			qt.Assert(t, qt.IsNil(err))
			return ret
		}
		qt.Assert(t, qt.Equals(run(), 0))
		qt.Check(t, qt.Equals(variableUint(t, coll, "result"), 42))
		qt.Check(t, qt.Equals(run(), 0))
		qt.Check(t, qt.Equals(run(), 1)) // two pages, two runs
	}},

	"map_special": {check: func(t *testing.T, spec *CollectionSpec, coll *Collection) {
		for i := uint32(1); i <= 3; i++ {
			qt.Assert(t, qt.Equals(testRun(t, coll, "special", collPacket), i))
		}
		qt.Check(t, qt.Equals(mapMember(t, spec, coll, "timers", "armed"), 1))
		qt.Check(t, qt.Equals(mapMember(t, spec, coll, "kptrs", "pid"), 2))
		qt.Check(t, qt.Equals(mapMember(t, spec, coll, "kptrs", "task"), 0))
	}},

	"map_values": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		qt.Assert(t, qt.Equals(testRun(t, coll, "entry", collPacket), 42))
		qt.Assert(t, qt.Equals(testRun(t, coll, "entry_miss", collPacket), 7))
		qt.Assert(t, qt.Equals(testRun(t, coll, "read_inner", collPacket), 0))
		var v32 uint32
		qt.Assert(t, qt.IsNil(coll.Maps["inner_b"].Lookup(uint32(0), &v32)))
		qt.Check(t, qt.Equals(v32, 5))
		qt.Check(t, qt.Equals(lookupU64(t, coll, "inner_h", uint32(7)), 9))
	}},

	"maps_legacy": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		for range 3 {
			qt.Assert(t, qt.Equals(testRun(t, coll, "legacy_count", collPacket), 2))
		}
		qt.Check(t, qt.Equals(lookupU64(t, coll, "legacy_array", uint32(1)), 3))
		qt.Check(t, qt.Equals(lookupU64(t, coll, "legacy_hash", uint32(64)), 3))
	}},

	"maps_iproute2": {
		opts: pinnedOptions,
		// id and pinning are understood (PIN_GLOBAL_NS pins by name); the
		// map-in-map fields are zero.
		check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
			for range 2 {
				qt.Assert(t, qt.Equals(testRun(t, coll, "cls", collPacket), 0))
			}
			qt.Assert(t, qt.Equals(testRun(t, coll, "act", collPacket), 0))
			qt.Check(t, qt.Equals(lookupU64(t, coll, "counters", uint32(0)), 3))
			qt.Check(t, qt.IsTrue(coll.Maps["counters"].IsPinned()))
		},
	},

	"maps_btf": {
		opts: pinnedOptions,
		check: func(t *testing.T, spec *CollectionSpec, coll *Collection) {
			qt.Assert(t, qt.Equals(testRun(t, coll, "use_maps", collPacket), 2))
			qt.Check(t, qt.Equals(lookupU64(t, coll, "hash", uint32(1)), 64))
			type value struct {
				A, B uint32
				C    uint64
			}
			var v value
			qt.Assert(t, qt.IsNil(coll.Maps["array"].Lookup(uint32(0), &v)))
			qt.Check(t, qt.Equals(v, value{1, 2, 64}))
			var q uint32
			qt.Assert(t, qt.IsNil(coll.Maps["queue"].Lookup(nil, &q)))
			qt.Check(t, qt.Equals(q, 7))
			cpus, err := PossibleCPU()
			qt.Assert(t, qt.IsNil(err))
			qt.Check(t, qt.Equals(coll.Maps["perf_events"].MaxEntries(), uint32(cpus)))
			qt.Check(t, qt.IsTrue(coll.Maps["pinned"].IsPinned()))
			for _, name := range sortedKeys(spec.Maps) {
				m, ms := coll.Maps[name], spec.Maps[name]
				qt.Check(t, qt.Equals(m.Type(), ms.Type), qt.Commentf("map %s", name))
				if name != "perf_events" {
					qt.Check(t, qt.Equals(m.MaxEntries(), ms.MaxEntries), qt.Commentf("map %s", name))
				}
			}
		},
	},

	"struct_ops": {
		// Other tests may register the object's "bpfkit" at the same
		// time: give this one a name of its own, which also shows that
		// data members reach the kernel.
		prepare: prepareStructOpsSpec,
		check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
			// Writing the value of the .struct_ops map registered it; the
			// .struct_ops.link one waits for link.AttachStructOps.
			cc := coll.Maps["bpfkit_cc"]
			// Unregister even when an assertion fails.
			t.Cleanup(func() { _ = cc.Delete(uint32(0)) })
			qt.Check(t, qt.Equals(cc.Type(), StructOpsMap))
			algs := availableCongestionControl(t)
			qt.Check(t, qt.IsTrue(slices.Contains(algs, structOpsTestName("bpfkit_cc"))), qt.Commentf("%v", algs))
			qt.Check(t, qt.IsFalse(slices.Contains(algs, structOpsTestName("bpfkit_cc_link"))), qt.Commentf("%v", algs))
			if !kernelBefore(t, "6.4") {
				qt.Check(t, qt.Equals(coll.Maps["bpfkit_cc_link"].Flags()&sys.BPF_F_LINK, uint32(sys.BPF_F_LINK)))
			}
			// The registration holds the map until its element is deleted.
			qt.Assert(t, qt.IsNil(cc.Delete(uint32(0))))
			algs = availableCongestionControl(t)
			qt.Check(t, qt.IsFalse(slices.Contains(algs, structOpsTestName("bpfkit_cc"))), qt.Commentf("%v", algs))
		},
	},

	"struct_ops_two": {prepare: prepareStructOpsTwo, check: checkStructOpsTwo},

	"isa": {prepare: func(t *testing.T, _ *CollectionSpec) {
		testutils.SkipOnOldKernel(t, "6.6", "ISA v4 instructions (sdiv/smod, movsx, ldsx, bswap, gotol)")
	}, check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		for name, want := range map[string]uint32{
			"isa_alu64": 0xe5432151, "isa_alu32": 0x7fa4, "isa_mem": 0xaacd6719, "isa_jump": 40,
			"isa_atomic": 0, "isa_ldabs": 0, "isa_call": 42,
		} {
			qt.Check(t, qt.Equals(testRun(t, coll, name, collPacket), want), qt.Commentf("%s", name))
		}
	}},

	// The link_* objects are attached by the link package's tests; here
	// they load, and programs whose type can run under BPF_PROG_TEST_RUN
	// return what their comment says.
	"link_cgroup": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		qt.Check(t, qt.Equals(testRun(t, coll, "skb_ingress", collPacket), 1))
		qt.Check(t, qt.Equals(testRun(t, coll, "skb_egress", collPacket), 1))
	}},
	"link_flow_dissector": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		qt.Check(t, qt.Equals(testRun(t, coll, "dissect", ipv4Packet()), 129))
	}},
	"link_freplace": {
		// The extension replaces replace_me of link_freplace_target's
		// freplace_entry, which must be loaded first.
		prepare: func(t *testing.T, spec *CollectionSpec) {
			target, err := NewCollection(loadTestSpec(t, "link_freplace_target"))
			qt.Assert(t, qt.IsNil(err))
			t.Cleanup(target.Close)
			spec.Programs["new_replace_me"].AttachTarget = target.Programs["freplace_entry"]
		},
	},
	"link_freplace_target": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		qt.Check(t, qt.Equals(testRun(t, coll, "freplace_entry", collPacket), 8))
	}},
	"link_iter": {},
	"link_net": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		const next = ^uint32(0) // TCX_NEXT, NETKIT_NEXT: -1
		for name, want := range map[string]uint32{
			"xdp_pass": 2, "tc_cls": 0, "tcx_in": next, "tcx_out": next, "netkit_primary": next, "netkit_peer": next,
		} {
			qt.Check(t, qt.Equals(testRun(t, coll, name, collPacket), want), qt.Commentf("%s", name))
		}
	}},
	"link_netfilter":  {},
	"link_perf_event": {},
	"link_socket": {check: func(t *testing.T, _ *CollectionSpec, coll *Collection) {
		qt.Check(t, qt.Equals(testRun(t, coll, "count_packets", collPacket), 50))
		qt.Check(t, qt.Equals(variableUint(t, coll, "packet_count"), 1))
	}},
	"link_sockmap":    {},
	"link_tracepoint": {},
	"link_tracing":    {},
	"link_uprobe":     {},
}

// notLoadable are the valid objects not meant to load as a whole.
var notLoadable = map[string]string{
	"sections": "a table of section names for the ELF reader, with placeholder attach targets",
}

func TestLoadTestdataObjects(t *testing.T) {
	testutils.RequireRoot(t)
	files, err := filepath.Glob("testdata/*-el.elf")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Not(qt.HasLen(files, 0)))
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), "-el.elf")
		if strings.HasPrefix(name, "err_") || strings.Contains(name, "_err_") || isLinkInput(name) {
			// Invalid on purpose: TestCollectionErrors and the ELF
			// reader's tests.
			continue
		}
		t.Run(name, func(t *testing.T) {
			if why, ok := notLoadable[name]; ok {
				t.Skip(why)
			}
			test, ok := objectTests[name]
			if !ok {
				// A new object still has to load; what its programs
				// return belongs in objectTests.
				t.Logf("object %s has no entry in objectTests: only loading is tested", name)
			}
			spec, err := LoadCollectionSpec(file)
			qt.Assert(t, qt.IsNil(err))
			if test.prepare != nil {
				test.prepare(t, spec)
			}
			var opts CollectionOptions
			if test.opts != nil {
				opts = test.opts(t)
			}
			splitForbidden(t, spec, opts)

			coll, err := NewCollectionWithOptions(spec, opts)
			testutils.SkipIfNotSupported(t, err)
			testutils.SkipIfForbidden(t, err, "object "+name)
			if err != nil && test.loadError != nil && test.loadError(t, err) {
				return
			}
			qt.Assert(t, qt.IsNil(err))
			defer coll.Close()

			for pname, ps := range spec.Programs {
				if ps.Type == UnspecifiedProgram {
					continue
				}
				qt.Check(t, qt.IsNotNil(coll.Programs[pname]), qt.Commentf("program %s", pname))
			}
			for mname := range spec.Maps {
				qt.Check(t, qt.IsNotNil(coll.Maps[mname]), qt.Commentf("map %s", mname))
			}
			for vname := range spec.Variables {
				qt.Check(t, qt.IsNotNil(coll.Variables[vname]), qt.Commentf("variable %s", vname))
			}
			if test.check != nil {
				test.check(t, spec, coll)
			}
		})
	}
}

// splitForbidden moves the programs whose type this kernel may refuse
// even to root (tracing other than iterators, LSM, extension) out of spec
// and loads each alone in a subtest, which skips where the kernel
// forbids the type. The rest of the object is tested as a whole.
func splitForbidden(t *testing.T, spec *CollectionSpec, opts CollectionOptions) {
	for _, name := range sortedKeys(spec.Programs) {
		ps := spec.Programs[name]
		switch {
		case ps.Type == Tracing && ps.AttachType == AttachTraceIter:
			continue
		case ps.Type == Tracing, ps.Type == LSM, ps.Type == Extension:
		default:
			continue
		}
		delete(spec.Programs, name)
		t.Run(name, func(t *testing.T) {
			alone := spec.Copy()
			alone.Programs = map[string]*ProgramSpec{name: ps}
			coll, err := NewCollectionWithOptions(alone, opts)
			testutils.SkipIfForbidden(t, err, ps.Type.String()+" programs")
			testutils.SkipIfNotSupported(t, err)
			qt.Assert(t, qt.IsNil(err))
			coll.Close()
		})
	}
}

func pinnedOptions(t *testing.T) CollectionOptions {
	return CollectionOptions{Maps: MapOptions{PinPath: testutils.TempBPFFS(t)}}
}

// testRun runs the program called name once on data and returns its
// result.
func testRun(t *testing.T, coll *Collection, name string, data []byte) uint32 {
	t.Helper()
	prog := coll.Programs[name]
	qt.Assert(t, qt.IsNotNil(prog), qt.Commentf("program %s", name))
	ret, _, err := prog.Test(data)
	qt.Assert(t, qt.IsNil(err), qt.Commentf("program %s", name))
	return ret
}

func lookupU64(t *testing.T, coll *Collection, m string, key any) uint64 {
	t.Helper()
	var v uint64
	qt.Assert(t, qt.IsNil(coll.Maps[m].Lookup(key, &v)), qt.Commentf("map %s key %v", m, key))
	return v
}

// variableUint reads an integer variable of 1, 2, 4 or 8 bytes.
func variableUint(t *testing.T, coll *Collection, name string) uint64 {
	t.Helper()
	v := coll.Variables[name]
	qt.Assert(t, qt.IsNotNil(v), qt.Commentf("variable %s", name))
	buf := make([]byte, v.Size())
	qt.Assert(t, qt.IsNil(v.Get(buf)), qt.Commentf("variable %s", name))
	return decodeUint(t, buf)
}

func decodeUint(t *testing.T, buf []byte) uint64 {
	t.Helper()
	bo := internal.NativeEndian
	switch len(buf) {
	case 1:
		return uint64(buf[0])
	case 2:
		return uint64(bo.Uint16(buf))
	case 4:
		return uint64(bo.Uint32(buf))
	case 8:
		return bo.Uint64(buf)
	}
	t.Fatalf("%d bytes are not an integer", len(buf))
	return 0
}

// mapMember reads the integer member of the value at key 0 of an array
// map, finding it by the value's BTF.
func mapMember(t *testing.T, spec *CollectionSpec, coll *Collection, mapName, member string) uint64 {
	t.Helper()
	ms := spec.Maps[mapName]
	st, ok := btf.As[*btf.Struct](ms.Value)
	qt.Assert(t, qt.IsTrue(ok), qt.Commentf("map %s value %v", mapName, ms.Value))
	value := make([]byte, ms.ValueSize)
	qt.Assert(t, qt.IsNil(coll.Maps[mapName].Lookup(uint32(0), value)))
	for _, m := range st.Members {
		if m.Name == member {
			size, err := btf.Sizeof(m.Type)
			qt.Assert(t, qt.IsNil(err))
			off := m.Offset.Bytes()
			return decodeUint(t, value[off:off+uint32(size)])
		}
	}
	t.Fatalf("%s has no member %s", st.Name, member)
	return 0
}

func availableCongestionControl(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/sys/net/ipv4/tcp_available_congestion_control")
	qt.Assert(t, qt.IsNil(err))
	return strings.Fields(string(data))
}

// ipv4Packet is an Ethernet frame with an IPv4 header and 20 zero bytes
// of UDP-ish payload, enough for the flow dissector.
func ipv4Packet() []byte {
	pkt := make([]byte, 14+20+20)
	binary.BigEndian.PutUint16(pkt[12:], unix.ETH_P_IP)
	ip := pkt[14:]
	ip[0] = 0x45 // version 4, 5 words
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	ip[8] = 64               // TTL
	ip[9] = unix.IPPROTO_UDP // protocol
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	return pkt
}

// checkCORE compares what core_relos computed with the kernel's BTF.
func checkCORE(t *testing.T, _ *CollectionSpec, coll *Collection) {
	qt.Assert(t, qt.Equals(testRun(t, coll, "core_relos", collPacket), 0))

	kernel, err := btf.LoadKernelSpec()
	qt.Assert(t, qt.IsNil(err))
	var task *btf.Struct
	qt.Assert(t, qt.IsNil(kernel.TypeByName("task_struct", &task)))
	var pidOffset uint32
	for _, m := range task.Members {
		if m.Name == "pid" {
			pidOffset = m.Offset.Bytes()
		}
	}
	taskID, err := kernel.TypeID(task)
	qt.Assert(t, qt.IsNil(err))

	want := map[string]uint64{
		"pid_offset": uint64(pidOffset), "pid_size": 4, "pid_exists": 1, "missing_field_exists": 0,
		"pid_signed": 1, "len_signed": 0, "type_exists": 1, "missing_type_exists": 0,
		"type_size": uint64(task.Size), "target_type_id": uint64(taskID),
		"type_matches": 1, "bad_matches": 0, "enum_exists": 1, "enum_missing_exists": 0,
		"enum_value": 181, "skb_len": 64, "pkt_type": 0, "pkt_type_size": 1,
	}
	for _, name := range sortedKeys(want) {
		qt.Check(t, qt.Equals(variableUint(t, coll, name), want[name]), qt.Commentf("%s", name))
	}
	qt.Check(t, qt.Equals(variableUint(t, coll, "task_pid"), variableUint(t, coll, "cur_tid")))
	qt.Check(t, qt.Equals(variableUint(t, coll, "task_tgid"), variableUint(t, coll, "cur_pid")))
	qt.Check(t, qt.Equals(variableUint(t, coll, "cur_pid"), uint64(os.Getpid())))
}

// checkKconfig compares the externs read_kconfig copied with the running
// kernel's configuration.
func checkKconfig(t *testing.T, _ *CollectionSpec, coll *Collection) {
	qt.Assert(t, qt.Equals(testRun(t, coll, "read_kconfig", collPacket), 0))

	cfg, err := kconfig.ParseKernel(map[string]struct{}{
		"CONFIG_HZ": {}, "CONFIG_BPF_SYSCALL": {}, "CONFIG_BPF_JIT": {}, "CONFIG_DEFAULT_HOSTNAME": {},
	})
	qt.Assert(t, qt.IsNil(err))
	v, err := internal.KernelVersion()
	qt.Assert(t, qt.IsNil(err))
	hz, err := strconv.ParseUint(cfg["CONFIG_HZ"], 10, 32)
	qt.Assert(t, qt.IsNil(err))
	tristate := map[string]uint64{"y": 1, "m": 2, "n": 0, "": 0}

	qt.Check(t, qt.Equals(variableUint(t, coll, "version"), uint64(v.Kernel())))
	qt.Check(t, qt.Equals(variableUint(t, coll, "hz"), hz))
	qt.Check(t, qt.Equals(variableUint(t, coll, "bpf_syscall"), boolUint(cfg["CONFIG_BPF_SYSCALL"] == "y")))
	qt.Check(t, qt.Equals(variableUint(t, coll, "bpf_jit"), tristate[cfg["CONFIG_BPF_JIT"]]))
	qt.Check(t, qt.Equals(variableUint(t, coll, "missing"), 0))
	qt.Check(t, qt.Equals(variableUint(t, coll, "missing_bool"), 0))

	host, err := strconv.Unquote(cfg["CONFIG_DEFAULT_HOSTNAME"])
	qt.Assert(t, qt.IsNil(err))
	buf := make([]byte, 16)
	qt.Assert(t, qt.IsNil(coll.Variables["hostname"].Get(buf)))
	qt.Check(t, qt.Equals(string(buf[:max(0, slices.Index(buf, 0))]), host))
}

// structOpsTestName is a congestion control name unique to this process,
// 15 characters at most.
func structOpsTestName(mapName string) string {
	suffix := "r"
	if strings.HasSuffix(mapName, "_link") {
		suffix = "l"
	}
	return "bk" + suffix + strconv.Itoa(os.Getpid())
}

// setStructOpsName sets the "name" member of a tcp_congestion_ops
// struct_ops map's value.
func setStructOpsName(t *testing.T, ms *MapSpec, name string) {
	t.Helper()
	st, ok := btf.As[*btf.Struct](ms.Value)
	qt.Assert(t, qt.IsTrue(ok))
	value := ms.Contents[0].Value.([]byte)
	for _, m := range st.Members {
		if m.Name == "name" {
			field := value[m.Offset.Bytes():][:16]
			clear(field)
			copy(field, name)
			return
		}
	}
	t.Fatal("no name member")
}
