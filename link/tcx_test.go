package link

import (
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// tcxNext is TCX_NEXT: let the next program (or the kernel) decide.
const tcxNext = -1

func TestTCX(t *testing.T) {
	obj := loadObject(t, "link_net")
	in := obj.program("tcx_in")
	out := obj.program("tcx_out")

	inNetns(t, func(int) {
		lo := ifindex(t, "lo")
		lin, err := AttachTCX(TCXOptions{Interface: lo, Program: in, Attach: ebpf.AttachTCXIngress})
		skipUnlessSupported(t, err)
		keep(t, lin)
		lout, err := AttachTCX(TCXOptions{Interface: lo, Program: out, Attach: ebpf.AttachTCXEgress})
		qt.Assert(t, qt.IsNil(err))
		keep(t, lout)

		udpRoundTrip(t)
		qt.Assert(t, qt.IsTrue(obj.counter("tcx_ingress_count") >= 1))
		qt.Assert(t, qt.IsTrue(obj.counter("tcx_egress_count") >= 1))

		info, err := lin.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.Type, TCXType))
		qt.Assert(t, qt.DeepEquals(info.TCX(), &TCXInfo{Ifindex: uint32(lo), AttachType: ebpf.AttachTCXIngress}))

		pinAndReload(t, lin)
		qt.Assert(t, qt.IsNil(lin.Detach()))
		before := obj.counter("tcx_ingress_count")
		udpRoundTrip(t)
		qt.Assert(t, qt.Equals(obj.counter("tcx_ingress_count"), before))
		mustClose(t, lin)
		mustClose(t, lout)
	})
}

// TestTCXAnchors orders links on a hook with anchors and reads the order
// back with QueryPrograms.
func TestTCXAnchors(t *testing.T) {
	obj := loadObject(t, "link_net")
	first := obj.program("tcx_in")
	second, m2 := counterProgram(t, ebpf.SchedCLS, ebpf.AttachTCXIngress, tcxNext)
	third, m3 := counterProgram(t, ebpf.SchedCLS, ebpf.AttachTCXIngress, tcxNext)

	inNetns(t, func(int) {
		lo := ifindex(t, "lo")
		attach := func(prog *ebpf.Program, anchor Anchor, rev uint64) (Link, error) {
			l, err := AttachTCX(TCXOptions{Interface: lo, Program: prog, Attach: ebpf.AttachTCXIngress, Anchor: anchor, ExpectedRevision: rev})
			keep(t, l)
			return l, err
		}
		query := func() *QueryResult {
			res, err := QueryPrograms(QueryOptions{Target: lo, Attach: ebpf.AttachTCXIngress})
			qt.Assert(t, qt.IsNil(err))
			return res
		}
		ids := func(res *QueryResult) []ebpf.ProgramID {
			var out []ebpf.ProgramID
			for _, p := range res.Programs {
				out = append(out, p.ID)
			}
			return out
		}
		progID := func(l Link) ebpf.ProgramID {
			info, err := l.Info()
			qt.Assert(t, qt.IsNil(err))
			return info.Program
		}

		l1, err := attach(first, nil, 0)
		skipUnlessSupported(t, err)
		rev := query().Revision
		qt.Assert(t, qt.Not(qt.Equals(rev, 0)))

		// A stale revision is refused.
		_, err = attach(second, Head(), rev+5)
		qt.Assert(t, qt.ErrorIs(err, unix.ESTALE))

		l2, err := attach(second, Head(), rev)
		qt.Assert(t, qt.IsNil(err))
		l3, err := attach(third, AfterLink(l2), 0)
		qt.Assert(t, qt.IsNil(err))

		res := query()
		qt.Assert(t, qt.IsTrue(res.HaveLinkInfo()))
		qt.Assert(t, qt.DeepEquals(ids(res), []ebpf.ProgramID{progID(l2), progID(l3), progID(l1)}))
		info2, err := l2.Info()
		qt.Assert(t, qt.IsNil(err))
		lid, ok := res.Programs[0].LinkID()
		qt.Assert(t, qt.IsTrue(ok))
		qt.Assert(t, qt.Equals(lid, info2.ID))

		// All three run in that order; each returns TCX_NEXT.
		udpRoundTrip(t)
		qt.Assert(t, qt.IsTrue(count(t, m2) >= 1))
		qt.Assert(t, qt.IsTrue(count(t, m3) >= 1))
		qt.Assert(t, qt.IsTrue(obj.counter("tcx_ingress_count") >= 1))

		mustClose(t, l3)
		// Anchors by ID and program.
		l3, err = attach(third, BeforeLinkByID(info2.ID), 0)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(ids(query()), []ebpf.ProgramID{progID(l3), progID(l2), progID(l1)}))
		mustClose(t, l3)
		l3, err = attach(third, AfterProgram(first), 0)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(ids(query()), []ebpf.ProgramID{progID(l2), progID(l1), progID(l3)}))
		mustClose(t, l3)
		l3, err = attach(third, BeforeProgramByID(progID(l1)), 0)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(ids(query()), []ebpf.ProgramID{progID(l2), progID(l3), progID(l1)}))
		mustClose(t, l3)
		l3, err = attach(third, Tail(), 0)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(ids(query()), []ebpf.ProgramID{progID(l2), progID(l1), progID(l3)}))
		mustClose(t, l3)
		l3, err = attach(third, AfterLinkByID(info2.ID), 0)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(ids(query()), []ebpf.ProgramID{progID(l2), progID(l3), progID(l1)}))
		mustClose(t, l3)
		l3, err = attach(third, BeforeLink(l1), 0)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(ids(query()), []ebpf.ProgramID{progID(l2), progID(l3), progID(l1)}))
		mustClose(t, l3)
		l3, err = attach(third, BeforeProgram(second), 0)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(ids(query()), []ebpf.ProgramID{progID(l3), progID(l2), progID(l1)}))
		mustClose(t, l3)
		l3, err = attach(third, AfterProgramByID(progID(l2)), 0)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(ids(query()), []ebpf.ProgramID{progID(l2), progID(l3), progID(l1)}))
		mustClose(t, l3)

		// An anchor that isn't attached there is refused, and so are
		// position flags given by hand.
		_, err = attach(third, AfterProgram(third), 0)
		qt.Assert(t, qt.IsNotNil(err))
		_, err = AttachTCX(TCXOptions{Interface: lo, Program: third, Attach: ebpf.AttachTCXIngress, Flags: 0x8})
		qt.Assert(t, qt.ErrorMatches(err, `.*Anchor.*`))

		mustClose(t, l2)
		mustClose(t, l1)
		qt.Assert(t, qt.HasLen(query().Programs, 0))
	})
}

// TestRawAttachTCX attaches without links (BPF_PROG_ATTACH on tcx, 6.6),
// with anchors, and detaches.
func TestRawAttachTCX(t *testing.T) {
	first, m1 := counterProgram(t, ebpf.SchedCLS, ebpf.AttachTCXIngress, tcxNext)
	second, _ := counterProgram(t, ebpf.SchedCLS, ebpf.AttachTCXIngress, tcxNext)

	inNetns(t, func(int) {
		lo := ifindex(t, "lo")
		opts := RawAttachProgramOptions{Target: lo, Program: first, Attach: ebpf.AttachTCXIngress}
		err := RawAttachProgram(opts)
		if err != nil {
			// Fails with EINVAL before tcx.
			skipUnlessSupported(t, haveTCX())
		}
		qt.Assert(t, qt.IsNil(err))
		err = RawAttachProgram(RawAttachProgramOptions{Target: lo, Program: second, Attach: ebpf.AttachTCXIngress, Anchor: BeforeProgram(first)})
		qt.Assert(t, qt.IsNil(err))
		res, err := QueryPrograms(QueryOptions{Target: lo, Attach: ebpf.AttachTCXIngress})
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.HasLen(res.Programs, 2))
		_, hasLink := res.Programs[0].LinkID()
		qt.Assert(t, qt.IsFalse(hasLink))

		udpRoundTrip(t)
		qt.Assert(t, qt.IsTrue(count(t, m1) >= 1))

		qt.Assert(t, qt.IsNil(RawDetachProgram(RawDetachProgramOptions(opts))))
		qt.Assert(t, qt.IsNil(RawDetachProgram(RawDetachProgramOptions{Target: lo, Program: second, Attach: ebpf.AttachTCXIngress})))
		res, err = QueryPrograms(QueryOptions{Target: lo, Attach: ebpf.AttachTCXIngress})
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.HasLen(res.Programs, 0))
	})
}

func TestTCXErrors(t *testing.T) {
	obj := loadObject(t, "link_net")
	xdp := obj.program("xdp_pass")
	in := obj.program("tcx_in")

	_, err := AttachTCX(TCXOptions{Interface: 1, Program: xdp, Attach: ebpf.AttachTCXIngress})
	qt.Assert(t, qt.ErrorMatches(err, `.*want SchedCLS`))
	_, err = AttachTCX(TCXOptions{Interface: 0, Program: in, Attach: ebpf.AttachTCXIngress})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachTCX(TCXOptions{Interface: 1, Attach: ebpf.AttachTCXIngress})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachTCX(TCXOptions{Interface: 1 << 30, Program: in, Attach: ebpf.AttachTCXIngress})
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.ErrorIs(err, unix.ENODEV))
}
