package ebpf

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// ProgramInfo is what the kernel reports about a loaded program: its
// immutable metadata and, copied at the time of the call, its run
// statistics. Fields the running kernel doesn't report are zero; the
// methods say whether a value was reported.
type ProgramInfo struct {
	// Type of the program.
	Type ProgramType
	// Tag is the kernel's hash of the instructions, in hex (Linux 4.13):
	// SHA-1 based before 6.18, SHA-256 based since. See
	// asm.Instructions.HasTag.
	Tag string
	// Name given at load time, as the kernel keeps it (Linux 4.15).
	Name string

	id               ProgramID
	createdByUID     uint32
	haveCreatedByUID bool
	loadTime         time.Duration
	btfID            btf.ID
	mapIDs           []uint32
	haveMapIDs       bool
	verifiedInsns    uint32
	haveVerified     bool
	memlock          uint64
	haveMemlock      bool
	stats            ProgramStats

	jitedSize    uint32
	xlatedSize   uint32
	xlated       []byte
	jited        []byte
	ksyms        []uint64
	funcLens     []uint32
	jitedLines   []uint64
	haveJitLists bool // Linux 4.18: ksyms and function lengths
	// Func and line info records as the kernel reports them; decoding
	// them needs the program's BTF, read on demand.
	funcInfos []byte
	lineInfos []byte
}

// ProgramStats are the run statistics of a program, which the kernel
// collects only while enabled (EnableStats or the sysctl
// kernel.bpf_stats_enabled); otherwise they are zero.
type ProgramStats struct {
	// Runtime is the total time the program ran (Linux 5.8).
	Runtime time.Duration
	// RunCount is how often the program ran (Linux 5.8).
	RunCount uint64
	// RecursionMisses counts the runs the kernel skipped because another
	// program was already running on the CPU (Linux 5.12).
	RecursionMisses uint64
}

// infoHas reports whether a kernel that wrote n bytes of bpf_prog_info
// reported the member at offset off of size size.
func infoHas(n uint32, off, size uintptr) bool { return uintptr(n) >= off+size }

// Info asks the kernel about the program: two bpf(2) calls, the second
// one filling buffers (map IDs, translated and JIT-compiled instructions,
// function and line info) sized by the first. Requires Linux 4.13.
func (p *Program) Info() (*ProgramInfo, error) {
	info, err := newProgramInfoFromFd(p.fd)
	runtime.KeepAlive(p)
	if err != nil {
		return nil, fmt.Errorf("info of program %q: %w", p.name, err)
	}
	return info, nil
}

func newProgramInfoFromFd(fd *sys.FD) (*ProgramInfo, error) {
	var raw sys.ProgInfo
	n, err := sys.ObjInfoLen(fd, &raw)
	if errors.Is(err, unix.EINVAL) {
		return nil, &internal.UnsupportedFeatureError{Name: "BPF_OBJ_GET_INFO_BY_FD", MinimumVersion: internal.Version{4, 13}}
	}
	if err != nil {
		return nil, err
	}

	pi := &ProgramInfo{
		Type:         ProgramType(raw.Type),
		Tag:          hex.EncodeToString(raw.Tag[:]),
		Name:         raw.Name.String(),
		id:           ProgramID(raw.Id),
		createdByUID: raw.CreatedByUid,
		loadTime:     time.Duration(raw.LoadTime),
		btfID:        btf.ID(raw.BtfId),
		jitedSize:    raw.JitedProgLen,
		xlatedSize:   raw.XlatedProgLen,
		stats: ProgramStats{
			Runtime:         time.Duration(raw.RunTimeNs),
			RunCount:        raw.RunCnt,
			RecursionMisses: raw.RecursionMisses,
		},
		verifiedInsns: raw.VerifiedInsns,
	}
	pi.haveCreatedByUID = infoHas(n, unsafe.Offsetof(raw.CreatedByUid), 4)
	pi.haveMapIDs = infoHas(n, unsafe.Offsetof(raw.MapIds), 8)
	pi.haveVerified = infoHas(n, unsafe.Offsetof(raw.VerifiedInsns), 4)
	pi.haveJitLists = infoHas(n, unsafe.Offsetof(raw.JitedFuncLens), 8)

	// Second call: only the buffers, sized by the first answer. Counts
	// the kernel didn't report stay zero and ask for nothing.
	var more sys.ProgInfo
	fill := false
	if raw.NrMapIds > 0 {
		pi.mapIDs = make([]uint32, raw.NrMapIds)
		more.NrMapIds, more.MapIds = raw.NrMapIds, sys.NewSlicePointer(pi.mapIDs)
		fill = true
	}
	if raw.XlatedProgLen > 0 {
		pi.xlated = make([]byte, raw.XlatedProgLen)
		more.XlatedProgLen, more.XlatedProgInsns = raw.XlatedProgLen, sys.NewSlicePointer(pi.xlated)
		fill = true
	}
	if raw.JitedProgLen > 0 {
		pi.jited = make([]byte, raw.JitedProgLen)
		more.JitedProgLen, more.JitedProgInsns = raw.JitedProgLen, sys.NewSlicePointer(pi.jited)
		fill = true
	}
	if raw.NrJitedKsyms > 0 {
		pi.ksyms = make([]uint64, raw.NrJitedKsyms)
		more.NrJitedKsyms, more.JitedKsyms = raw.NrJitedKsyms, sys.NewSlicePointer(pi.ksyms)
		fill = true
	}
	if raw.NrJitedFuncLens > 0 {
		pi.funcLens = make([]uint32, raw.NrJitedFuncLens)
		more.NrJitedFuncLens, more.JitedFuncLens = raw.NrJitedFuncLens, sys.NewSlicePointer(pi.funcLens)
		fill = true
	}
	if raw.NrFuncInfo > 0 && raw.FuncInfoRecSize == btf.FuncInfoSize {
		pi.funcInfos = make([]byte, raw.NrFuncInfo*btf.FuncInfoSize)
		more.NrFuncInfo, more.FuncInfoRecSize, more.FuncInfo = raw.NrFuncInfo, raw.FuncInfoRecSize, sys.NewSlicePointer(pi.funcInfos)
		fill = true
	}
	if raw.NrLineInfo > 0 && raw.LineInfoRecSize == btf.LineInfoSize {
		pi.lineInfos = make([]byte, raw.NrLineInfo*btf.LineInfoSize)
		more.NrLineInfo, more.LineInfoRecSize, more.LineInfo = raw.NrLineInfo, raw.LineInfoRecSize, sys.NewSlicePointer(pi.lineInfos)
		fill = true
	}
	if raw.NrJitedLineInfo > 0 && raw.JitedLineInfoRecSize == 8 {
		pi.jitedLines = make([]uint64, raw.NrJitedLineInfo)
		more.NrJitedLineInfo, more.JitedLineInfoRecSize, more.JitedLineInfo = raw.NrJitedLineInfo, 8, sys.NewSlicePointer(pi.jitedLines)
		fill = true
	}
	if fill {
		if err := sys.ObjInfo(fd, &more); err != nil {
			return nil, err
		}
		// The program can't change, but a kernel that hides addresses
		// reports fewer records the second time: keep what it wrote.
		pi.mapIDs = pi.mapIDs[:min(len(pi.mapIDs), int(more.NrMapIds))]
		pi.ksyms = pi.ksyms[:min(len(pi.ksyms), int(more.NrJitedKsyms))]
		pi.funcLens = pi.funcLens[:min(len(pi.funcLens), int(more.NrJitedFuncLens))]
		pi.funcInfos = pi.funcInfos[:min(len(pi.funcInfos), int(more.NrFuncInfo*btf.FuncInfoSize))]
		pi.lineInfos = pi.lineInfos[:min(len(pi.lineInfos), int(more.NrLineInfo*btf.LineInfoSize))]
		pi.jitedLines = pi.jitedLines[:min(len(pi.jitedLines), int(more.NrJitedLineInfo))]
	}
	runtime.KeepAlive(pi)

	if pm, ok := procFdinfoMemlock(fd); ok {
		pi.memlock, pi.haveMemlock = pm, true
	}
	return pi, nil
}

// procFdinfoMemlock reads the "memlock:" line the kernel prints for a BPF
// object in /proc/self/fdinfo (Linux 4.10): the memory it charges.
func procFdinfoMemlock(fd *sys.FD) (uint64, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/self/fdinfo/%d", fd.Int()))
	runtime.KeepAlive(fd)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	// A few hundred bytes; the limit keeps a surprise from growing.
	data, err := io.ReadAll(io.LimitReader(f, 64*1024))
	if err != nil {
		return 0, false
	}
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		if v, ok := bytes.CutPrefix(line, []byte("memlock:")); ok {
			n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// MapIDs returns the IDs of the maps the program uses (Linux 4.15).
func (pi *ProgramInfo) MapIDs() ([]MapID, bool) {
	ids := make([]MapID, len(pi.mapIDs))
	for i, id := range pi.mapIDs {
		ids[i] = MapID(id)
	}
	return ids, pi.haveMapIDs
}

// btfSpec reads the program's BTF back from the kernel: two bpf(2) calls
// and a parse. Requires CAP_SYS_ADMIN.
func (pi *ProgramInfo) btfSpec() (*btf.Spec, error) {
	if pi.btfID == 0 {
		return nil, fmt.Errorf("program %q has no BTF: %w", pi.Name, ErrNotSupported)
	}
	h, err := btf.NewHandleFromID(pi.btfID)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.Spec(nil)
}

// FuncInfos returns where each function of the program starts, with its
// BTF. The kernel reports them since 5.0 for programs loaded with BTF; it
// fails wrapping ErrNotSupported otherwise, and wrapping
// ErrRestrictedKernel when the kernel hides them. Reading the program's
// BTF requires CAP_SYS_ADMIN.
func (pi *ProgramInfo) FuncInfos() (btf.FuncOffsets, error) {
	if len(pi.funcInfos) == 0 {
		return nil, pi.noExtInfo("func info")
	}
	spec, err := pi.btfSpec()
	if err != nil {
		return nil, fmt.Errorf("func info of program %q: %w", pi.Name, err)
	}
	return btf.LoadFuncInfos(bytes.NewReader(pi.funcInfos), internal.NativeEndian, uint32(len(pi.funcInfos))/btf.FuncInfoSize, spec)
}

// LineInfos returns the source line of the program's instructions, where
// the program was loaded with line info (Linux 5.0). Errors as FuncInfos.
func (pi *ProgramInfo) LineInfos() (btf.LineOffsets, error) {
	if len(pi.lineInfos) == 0 {
		return nil, pi.noExtInfo("line info")
	}
	spec, err := pi.btfSpec()
	if err != nil {
		return nil, fmt.Errorf("line info of program %q: %w", pi.Name, err)
	}
	return btf.LoadLineInfos(bytes.NewReader(pi.lineInfos), internal.NativeEndian, uint32(len(pi.lineInfos))/btf.LineInfoSize, spec)
}

func (pi *ProgramInfo) noExtInfo(what string) error {
	if pi.btfID != 0 {
		return fmt.Errorf("%s of program %q: %w", what, pi.Name, ErrRestrictedKernel)
	}
	return fmt.Errorf("%s of program %q: %w", what, pi.Name, ErrNotSupported)
}

// ID returns the program's ID (Linux 4.13).
func (pi *ProgramInfo) ID() (ProgramID, bool) { return pi.id, pi.id > 0 }

// BTFID returns the ID of the program's BTF, valid while the program
// lives. The bool is false on kernels before 5.0 and for programs loaded
// without BTF.
func (pi *ProgramInfo) BTFID() (btf.ID, bool) { return pi.btfID, pi.btfID > 0 }

// CreatedByUID returns the user that loaded the program (Linux 4.15).
func (pi *ProgramInfo) CreatedByUID() (uint32, bool) { return pi.createdByUID, pi.haveCreatedByUID }

// LoadTime returns when the program was loaded, as time since boot
// (Linux 4.15).
func (pi *ProgramInfo) LoadTime() (time.Duration, bool) { return pi.loadTime, pi.loadTime > 0 }

// VerifiedInstructions returns how many instructions the verifier
// processed (Linux 5.16).
func (pi *ProgramInfo) VerifiedInstructions() (uint32, bool) {
	return pi.verifiedInsns, pi.haveVerified
}

// Memlock returns roughly how many bytes of kernel memory the program
// takes, from /proc/self/fdinfo (Linux 4.10).
func (pi *ProgramInfo) Memlock() (uint64, bool) { return pi.memlock, pi.haveMemlock }

// JitedSize returns the size in bytes of the program's machine code. It
// fails wrapping ErrRestrictedKernel when the kernel hides it (no JIT,
// or sysctls such as kernel.kptr_restrict).
func (pi *ProgramInfo) JitedSize() (uint32, error) {
	if pi.jitedSize == 0 {
		return 0, fmt.Errorf("jited size of program %q: %w", pi.Name, ErrRestrictedKernel)
	}
	return pi.jitedSize, nil
}

// TranslatedSize returns the size in bytes of the instructions as the
// kernel rewrote them after verification. It fails wrapping
// ErrRestrictedKernel when the kernel hides them.
func (pi *ProgramInfo) TranslatedSize() (int, error) {
	if pi.xlatedSize == 0 {
		return 0, fmt.Errorf("translated size of program %q: %w", pi.Name, ErrRestrictedKernel)
	}
	return int(pi.xlatedSize), nil
}

// JitedInsns returns the program's machine code (Linux 4.13).
func (pi *ProgramInfo) JitedInsns() ([]byte, bool) { return pi.jited, len(pi.jited) > 0 }

// JitedKsymAddrs returns the kernel addresses of the program and its
// subprograms, as /proc/kallsyms lists them (Linux 4.18). It reports
// false where addresses don't fit a uintptr (a 32-bit process on a
// 64-bit kernel) or are hidden.
func (pi *ProgramInfo) JitedKsymAddrs() ([]uintptr, bool) {
	if len(pi.ksyms) == 0 {
		return nil, false
	}
	addrs := make([]uintptr, 0, len(pi.ksyms))
	for _, a := range pi.ksyms {
		if uint64(uintptr(a)) != a {
			return nil, false
		}
		addrs = append(addrs, uintptr(a))
	}
	return addrs, true
}

// JitedFuncLens returns the length of each function's machine code
// (Linux 4.18).
func (pi *ProgramInfo) JitedFuncLens() ([]uint32, bool) {
	return pi.funcLens, len(pi.funcLens) > 0
}

// JitedLineInfos returns the machine code addresses of the program's line
// info records (Linux 5.0).
func (pi *ProgramInfo) JitedLineInfos() ([]uint64, bool) {
	return pi.jitedLines, len(pi.jitedLines) > 0
}

// Instructions decodes the instructions as the kernel rewrote them after
// verification (map fds replaced by IDs, helpers by addresses): for
// inspection, not to load again. The first instruction carries the
// program's name as its symbol. Where the program has BTF and the caller
// may read it (CAP_SYS_ADMIN), instructions carry their function
// (btf.FuncMetadata) and source line. It fails wrapping
// ErrRestrictedKernel when the kernel hides the instructions (reading
// them needs CAP_BPF or CAP_SYS_ADMIN).
//
// Requires Linux 4.13.
func (pi *ProgramInfo) Instructions() (asm.Instructions, error) {
	if len(pi.xlated) == 0 {
		return nil, fmt.Errorf("instructions of program %q: %w", pi.Name, ErrRestrictedKernel)
	}
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(pi.xlated), internal.NativeEndian, "linux")
	if err != nil {
		return nil, fmt.Errorf("instructions of program %q: %w", pi.Name, err)
	}
	if len(insns) > 0 && pi.Name != "" {
		insns[0] = insns[0].WithSymbol(pi.Name)
	}
	// Function and line info are a bonus: without the privilege to read
	// the program's BTF, the instructions come without them.
	if funcs, err := pi.FuncInfos(); err == nil {
		lines, _ := pi.LineInfos()
		btf.AssignMetadataToInstructions(insns, funcs, lines, nil)
	}
	return insns, nil
}

// Stats returns the program's run statistics: one bpf(2) call. They are
// zero unless statistics are enabled (EnableStats). Requires Linux 5.8.
func (p *Program) Stats() (*ProgramStats, error) {
	var raw sys.ProgInfo
	n, err := sys.ObjInfoLen(p.fd, &raw)
	runtime.KeepAlive(p)
	if err != nil {
		return nil, fmt.Errorf("stats of program %q: %w", p.name, err)
	}
	if !infoHas(n, unsafe.Offsetof(raw.RunCnt), 8) {
		return nil, fmt.Errorf("stats of program %q: %w", p.name,
			&internal.UnsupportedFeatureError{Name: "program run statistics", MinimumVersion: internal.Version{5, 8}})
	}
	return &ProgramStats{
		Runtime:         time.Duration(raw.RunTimeNs),
		RunCount:        raw.RunCnt,
		RecursionMisses: raw.RecursionMisses,
	}, nil
}

// EnableStats makes the kernel collect run statistics of all programs
// until the returned Closer is closed: which is a BPF_STATS_* value, such
// as unix.BPF_STATS_RUN_TIME. Collecting slows every program run down a
// little. Requires Linux 5.8 and CAP_SYS_ADMIN.
func EnableStats(which uint32) (io.Closer, error) {
	fd, err := sys.EnableStats(&sys.EnableStatsAttr{Type: sys.StatsType(which)})
	if errors.Is(err, unix.EINVAL) {
		return nil, fmt.Errorf("enable stats %d: %w", which,
			&internal.UnsupportedFeatureError{Name: "BPF_ENABLE_STATS", MinimumVersion: internal.Version{5, 8}})
	}
	if err != nil {
		return nil, fmt.Errorf("enable stats %d: %w", which, err)
	}
	return fd, nil
}
