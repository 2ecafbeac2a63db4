package ebpf

import (
	"slices"
	"testing"

	"github.com/go-quicktest/qt"

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
			name: "two programs for one member",
			prepare: func(t *testing.T, spec *CollectionSpec) {
				p := spec.Programs["bpfkit_init"].Copy()
				p.Name = "bpfkit_init2"
				spec.Programs[p.Name] = p
			},
			want: `map "bpfkit_cc": tcp_congestion_ops.init: programs "bpfkit_init" and "bpfkit_init2" both implement it`,
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
			_, err := NewCollection(spec)
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
