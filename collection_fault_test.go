package ebpf

import (
	"slices"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// TestNewCollectionFaults fails the 1st, 2nd, ... bpf(2) call of
// NewCollection on objects that together have every kind of map and
// program the loader handles (data sections with variables, BTF, maps with
// contents, a program array, maps of maps, .kconfig, CO-RE, kfuncs,
// subprograms, struct_ops) until a load makes no more calls. Every
// failure must be reported and must close every descriptor it opened.
func TestNewCollectionFaults(t *testing.T) {
	testutils.RequireRoot(t)
	for _, object := range []string{"map_values", "globals", "bpfobj_default", "subprogs", "kconfig", "core", "kfuncs", "struct_ops"} {
		t.Run(object, func(t *testing.T) {
			spec := loadTestSpec(t, object)
			if object == "struct_ops" {
				prepareStructOpsSpec(t, spec)
			}
			// Memoize the feature probes, which would otherwise count as
			// calls of the first load only.
			coll, err := NewCollection(spec)
			testutils.SkipIfNotSupported(t, err)
			qt.Assert(t, qt.IsNil(err))
			closeFaultCollection(t, coll)

			calls := walkCollectionFaults(t, func() (*Collection, error) { return NewCollection(spec) })
			t.Logf("failed each of %d bpf(2) calls", calls)
			qt.Assert(t, qt.Not(qt.Equals(calls, 0)))
			qt.Assert(t, qt.IsFalse(slices.Contains(availableCongestionControl(t), structOpsTestName("bpfkit_cc"))),
				qt.Commentf("a failed load left the struct_ops map registered"))
		})
	}
}

// TestLoadAndAssignFaults walks the error paths of loading part of an
// object: a program, its program array and the programs that holds.
func TestLoadAndAssignFaults(t *testing.T) {
	testutils.RequireRoot(t)
	spec := loadTestSpec(t, "map_values")
	coll, err := NewCollection(spec)
	qt.Assert(t, qt.IsNil(err))
	coll.Close()

	walkCollectionFaults(t, func() (*Collection, error) {
		var objs struct {
			Entry     *Program `ebpf:"entry"`
			JumpTable *Map     `ebpf:"jump_table"`
			InnerB    *Map     `ebpf:"inner_b"`
			ReadInner *Program `ebpf:"read_inner"`
		}
		if err := spec.LoadAndAssign(&objs, nil); err != nil {
			qt.Assert(t, qt.IsNil(objs.Entry))
			qt.Assert(t, qt.IsNil(objs.JumpTable))
			return nil, err
		}
		return &Collection{
			Programs: map[string]*Program{"entry": objs.Entry, "read_inner": objs.ReadInner},
			Maps:     map[string]*Map{"jump_table": objs.JumpTable, "inner_b": objs.InnerB},
		}, nil
	})
}

// walkCollectionFaults makes the nth bpf(2) call of load fail with ENOMEM,
// for n = 1, 2, ... until load makes fewer than n calls, and returns how
// many calls were failed. A failed call may be recovered from (a program
// load is repeated with a verifier log, BTF is dropped where the kernel
// didn't take it); otherwise the error must wrap ENOMEM. In both cases no
// descriptor may stay open.
func walkCollectionFaults(t *testing.T, load func() (*Collection, error)) int {
	t.Helper()
	for n := 1; ; n++ {
		var failed sys.Cmd
		hit := false
		done := testutils.CheckNoOpenFDs(t)
		restore := sys.InjectFaults(func(cmd sys.Cmd, i int) error {
			if i == n {
				hit, failed = true, cmd
				return unix.ENOMEM
			}
			return nil
		})
		coll, err := load()
		restore()
		if err == nil {
			closeFaultCollection(t, coll)
		}
		done()
		if !hit {
			qt.Assert(t, qt.IsNil(err))
			return n - 1
		}
		if err != nil {
			qt.Assert(t, qt.ErrorIs(err, unix.ENOMEM), qt.Commentf("call %d (%v)", n, failed))
		}
	}
}

// closeFaultCollection closes coll, unregistering its struct_ops maps.
func closeFaultCollection(t *testing.T, coll *Collection) {
	t.Helper()
	for _, m := range coll.Maps {
		if m.Type() == StructOpsMap && m.Flags()&sys.BPF_F_LINK == 0 {
			qt.Assert(t, qt.IsNil(m.Delete(uint32(0))))
		}
	}
	coll.Close()
}
