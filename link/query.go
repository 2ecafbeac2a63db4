package link

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// QueryOptions are the arguments of QueryPrograms.
type QueryOptions struct {
	// Target to query: a cgroup or network namespace descriptor, an
	// interface index (tcx, netkit), a map descriptor (sockmap), ...
	// depending on Attach.
	Target int
	// Attach is the hook to list.
	Attach ebpf.AttachType
	// QueryFlags for BPF_PROG_QUERY, for example BPF_F_QUERY_EFFECTIVE
	// to include programs inherited from ancestor cgroups.
	QueryFlags uint32
}

// QueryResult lists what runs at a hook.
type QueryResult struct {
	// Programs in the order they run.
	Programs []AttachedProgram
	// Revision counts changes of the hook's list (tcx, netkit and other
	// hooks with ordered lists, Linux 6.6); 0 where the kernel keeps
	// none.
	Revision uint64
}

// HaveLinkInfo reports whether the kernel said which link each program
// belongs to: it does for hooks with ordered lists (tcx, netkit; Linux
// 6.6), which report a Revision.
func (qr *QueryResult) HaveLinkInfo() bool {
	return qr.Revision != 0
}

// AttachedProgram is a program attached to a hook.
type AttachedProgram struct {
	ID     ebpf.ProgramID
	linkID ID
}

// LinkID returns the ID of the link the program is attached with, and false
// when it was attached without a link or the kernel doesn't say (see
// QueryResult.HaveLinkInfo).
func (ap *AttachedProgram) LinkID() (ID, bool) {
	return ap.linkID, ap.linkID != 0
}

// maxQueryPrograms bounds the list QueryPrograms reads: the kernel caps a
// cgroup hook at 64 programs and an mprog list (tcx, netkit) at 64 too;
// the bound leaves room for future kernels.
const maxQueryPrograms = 1 << 16

// QueryPrograms lists the programs attached to a hook (BPF_PROG_QUERY, Linux
// 4.15; link IDs and revision 6.6). The list may be empty. Two bpf(2)
// calls: one to count, one to fetch (repeated if the list grew in
// between).
func QueryPrograms(opts QueryOptions) (*QueryResult, error) {
	if opts.Target < 0 {
		return nil, fmt.Errorf("query %s programs: invalid target %d: %w", opts.Attach, opts.Target, sys.ErrClosedFd)
	}
	attr := sys.ProgQueryAttr{
		TargetFd:   uint32(opts.Target),
		AttachType: sys.AttachType(opts.Attach),
		QueryFlags: opts.QueryFlags,
	}
	if err := sys.ProgQuery(&attr); err != nil {
		return nil, fmt.Errorf("query %s programs of %d: %w", opts.Attach, opts.Target, queryError(err))
	}
	withLinks := attr.Revision != 0 // the kernel knows link_ids (6.6)
	for try := 0; ; try++ {
		count := attr.Count
		if count > maxQueryPrograms {
			return nil, fmt.Errorf("query %s programs of %d: kernel reports %d programs, more than %d", opts.Attach, opts.Target, count, maxQueryPrograms)
		}
		if count == 0 {
			return &QueryResult{Revision: attr.Revision}, nil
		}
		progIDs := make([]uint32, count)
		linkIDs := make([]uint32, count)
		attr = sys.ProgQueryAttr{
			TargetFd:   uint32(opts.Target),
			AttachType: sys.AttachType(opts.Attach),
			QueryFlags: opts.QueryFlags,
			ProgIds:    sys.NewSlicePointer(progIDs),
			Count:      count,
		}
		if withLinks {
			// Older kernels refuse the member (EINVAL).
			attr.LinkIds = sys.NewSlicePointer(linkIDs)
		}
		err := sys.ProgQuery(&attr)
		runtime.KeepAlive(progIDs)
		runtime.KeepAlive(linkIDs)
		if errors.Is(err, unix.ENOSPC) && try < 8 {
			// Programs were attached since the count: again with the
			// new count the kernel wrote back.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("query %s programs of %d: %w", opts.Attach, opts.Target, queryError(err))
		}
		n := min(attr.Count, count)
		res := &QueryResult{Programs: make([]AttachedProgram, n), Revision: attr.Revision}
		for i := range res.Programs {
			res.Programs[i] = AttachedProgram{ID: ebpf.ProgramID(progIDs[i]), linkID: ID(linkIDs[i])}
		}
		return res, nil
	}
}

// queryError names BPF_PROG_QUERY when the kernel lacks it (EINVAL before
// 4.15 for the unknown command).
func queryError(err error) error {
	if errors.Is(err, unix.EINVAL) {
		if perr := haveProgQuery(); perr != nil {
			return fmt.Errorf("%w (%w)", perr, err)
		}
	}
	return err
}

// haveProgQuery: BPF_PROG_QUERY (4.15). On a bad target fd a kernel with
// the command answers EBADF, one without EINVAL.
var haveProgQuery = internal.NewFeatureTest("BPF_PROG_QUERY", func() error {
	attr := sys.ProgQueryAttr{TargetFd: badFD, AttachType: sys.BPF_CGROUP_INET_INGRESS}
	return ebadfMeansSupported(sys.ProgQuery(&attr))
}, "4.15")
