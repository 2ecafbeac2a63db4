package link

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// Feature probes of the link machinery. Each runs at most once per process
// (internal.NewFeatureTest), and only after an attach failed with an errno
// that could mean "this kernel lacks it": the happy path never pays for a
// probe.

// badFD is a descriptor number no process has open: the kernel answers
// EBADF for it only once it has understood everything before it.
const badFD = ^uint32(0)

// loadProbeProgram loads "r0 = 0; exit" as a program of type typ with the
// expected attach type attach. The caller closes it.
func loadProbeProgram(typ sys.ProgType, attach sys.AttachType) (*sys.FD, error) {
	var buf bytes.Buffer
	insns := asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	if err := insns.Marshal(&buf, internal.NativeEndian); err != nil {
		return nil, err
	}
	code := buf.Bytes()
	license := sys.NewStringPointer("GPL")
	fd, err := sys.ProgLoad(&sys.ProgLoadAttr{
		ProgType:           typ,
		InsnCnt:            uint32(len(code) / asm.InstructionSize),
		Insns:              sys.NewSlicePointer(code),
		License:            license,
		ExpectedAttachType: attach,
	})
	runtime.KeepAlive(code)
	if err != nil {
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.E2BIG) {
			return nil, fmt.Errorf("load %s probe program: %w (%w)", typ, ErrNotSupported, err)
		}
		return nil, fmt.Errorf("load %s probe program: %w", typ, err)
	}
	return fd, nil
}

// haveBPFLink: BPF_LINK_CREATE exists (5.7). With an invalid program fd
// a kernel that has the command answers EBADF; one without it EINVAL.
var haveBPFLink = internal.NewFeatureTest("bpf_link (BPF_LINK_CREATE)", func() error {
	_, err := sys.LinkCreate(&sys.LinkCreateAttr{ProgFd: badFD, TargetFd: badFD, AttachType: sys.BPF_CGROUP_INET_INGRESS})
	switch {
	case errors.Is(err, unix.EBADF):
		return nil
	case errors.Is(err, unix.EINVAL):
		return ErrNotSupported
	case err == nil:
		return errors.New("BPF_LINK_CREATE with an invalid fd succeeded")
	}
	return err
}, "5.7")

// haveLinkInfo: a kernel before 5.8 answers BPF_OBJ_GET_INFO_BY_FD for a
// link with EINVAL. Only consulted after such an EINVAL, which the version
// explains; no probe needed.
func haveLinkInfo() error {
	return olderThan("link info (BPF_OBJ_GET_INFO_BY_FD on a link)", internal.Version{5, 8, 0})
}

// haveLinkDetach: a kernel before 5.9 answers the unknown BPF_LINK_DETACH
// with EINVAL. Only consulted after such an EINVAL.
func haveLinkDetach() error {
	return olderThan("BPF_LINK_DETACH", internal.Version{5, 9, 0})
}

// olderThan returns an UnsupportedFeatureError for feature if the running
// kernel is older than v, and nil otherwise. It classifies an EINVAL whose
// only explanation on an old kernel is the missing feature, where a probe
// would cost more than it tells; on a kernel that has the feature the
// EINVAL stands for itself.
func olderThan(feature string, v internal.Version) error {
	have, err := internal.KernelVersion()
	if err != nil || !have.Less(v) {
		return nil
	}
	return &internal.UnsupportedFeatureError{Name: feature, MinimumVersion: v}
}

// haveBPFLinkPerfEvent: perf events attach with BPF_LINK_CREATE (5.15).
// A tracepoint program with BPF_PERF_EVENT and an invalid perf event fd
// gets EBADF where the link type exists, EINVAL before.
var haveBPFLinkPerfEvent = internal.NewFeatureTest("bpf_link for perf events", func() error {
	prog, err := loadProbeProgram(sys.BPF_PROG_TYPE_TRACEPOINT, 0)
	if err != nil {
		return err
	}
	defer prog.Close()
	_, err = sys.LinkCreatePerfEvent(&sys.LinkCreatePerfEventAttr{ProgFd: prog.Uint(), TargetFd: badFD, AttachType: sys.BPF_PERF_EVENT})
	return ebadfMeansSupported(err)
}, "5.15")

// haveTCX: tcx links (6.6). A SCHED_CLS program linked to interface 0
// gets ENODEV where tcx exists and EINVAL before.
var haveTCX = internal.NewFeatureTest("tcx links", func() error {
	return probeDeviceLink(sys.BPF_TCX_INGRESS)
}, "6.6")

// haveNetkit: netkit links (6.7, CONFIG_NETKIT). Without netkit the
// kernel answers EINVAL for interface 0, with it ENODEV.
var haveNetkit = internal.NewFeatureTest("netkit links (CONFIG_NETKIT)", func() error {
	return probeDeviceLink(sys.BPF_NETKIT_PRIMARY)
}, "6.7")

func probeDeviceLink(attach sys.AttachType) error {
	prog, err := loadProbeProgram(sys.BPF_PROG_TYPE_SCHED_CLS, attach)
	if err != nil {
		return err
	}
	defer prog.Close()
	fd, err := sys.LinkCreateTcx(&sys.LinkCreateTcxAttr{ProgFd: prog.Uint(), TargetFd: 0, AttachType: attach})
	switch {
	case errors.Is(err, unix.ENODEV):
		return nil
	case errors.Is(err, unix.EINVAL):
		return ErrNotSupported
	case err == nil:
		fd.Close()
		return errors.New("attaching to interface 0 succeeded")
	}
	return err
}

// ebadfMeansSupported classifies the result of a probe made with an
// invalid fd: EBADF means the kernel got as far as looking at the fd.
func ebadfMeansSupported(err error) error {
	switch {
	case errors.Is(err, unix.EBADF):
		return nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, sys.ENOTSUPP):
		return ErrNotSupported
	case err == nil:
		return errors.New("probe with an invalid fd succeeded")
	}
	return err
}
