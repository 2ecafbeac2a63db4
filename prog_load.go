package ebpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// VerifierError is returned when the kernel rejects a program: it carries
// the verifier's log. Its Error method summarises the reason and names the
// source line of the rejected instruction when the program has BTF line
// info; format it with %+v for the whole log. See internal.VerifierError.
type VerifierError = internal.VerifierError

// LogLevel selects what the kernel's verifier writes into its log
// (log_level of BPF_PROG_LOAD). Levels are bits and may be ORed together.
type LogLevel uint32

const (
	// LogLevelBranch logs every instruction the verifier walks, with the
	// register state at branches (BPF_LOG_LEVEL1).
	LogLevelBranch LogLevel = 1 << iota
	// LogLevelInstruction logs the register state after every instruction
	// (BPF_LOG_LEVEL2); logs get large.
	LogLevelInstruction
	// LogLevelStats logs only statistics: instructions processed, states,
	// verification time (BPF_LOG_STATS, Linux 5.2).
	LogLevelStats
)

// ProgramOptions control loading a program.
type ProgramOptions struct {
	// LogLevel asks the verifier for a log. With a level set, every load
	// writes one (filling Program.VerifierLog) and the program is loaded
	// once. Zero loads without a log first and, only if the verifier
	// rejects the program, once more with LogLevelBranch so the error
	// carries the reason.
	LogLevel LogLevel

	// LogSizeStart is the size of the first log buffer, in bytes. A log
	// that doesn't fit grows the buffer (to the size Linux 6.4 and later
	// report, by doubling before) and loads again, so the whole log is
	// kept; the default suits most programs.
	LogSizeStart uint32

	// LogDisabled turns the log off, whatever LogLevel says: a rejected
	// program gives a *VerifierError without a log.
	LogDisabled bool

	// KernelTypes are the types CO-RE relocations are applied against
	// instead of the running kernel's BTF (/sys/kernel/btf/vmlinux): useful
	// where that is missing, or to load for another kernel.
	KernelTypes *btf.Spec

	// ExtraRelocationTargets are searched for CO-RE targets after
	// KernelTypes, e.g. the BTF of kernel modules.
	ExtraRelocationTargets []*btf.Spec
}

// Verifier log buffer sizes. The kernel refuses a log_size above
// UINT_MAX >> 2 (before Linux 5.2: UINT_MAX >> 8).
const (
	defaultLogSize = 64 * 1024
	minLogSize     = 128 // the kernel's minimum
	maxLogSize     = math.MaxUint32 >> 2
	oldMaxLogSize  = math.MaxUint32 >> 8
)

// newProgramWithOptions loads spec; it is the loader NewCollection calls
// for each program. It never modifies spec.
//
// c shares the kernel's BTF (and that of its modules) between the programs
// of one collection: it is read, decoded lazily, only if a program needs
// it (CO-RE, kfuncs, typed ksyms, attach targets). With nil, a program
// that needs kernel BTF gets a Cache of its own.
//
// syms shares what /proc/kallsyms said between the programs of one
// collection (see kallsymsCache); with nil, the program asks it alone.
//
// Maps must already be associated with the instructions that reference
// them (asm.Instruction.AssociateMap); an instruction referencing a map by
// name without one is an error.
func newProgramWithOptions(spec *ProgramSpec, opts ProgramOptions, c *btf.Cache, syms *kallsymsCache) (*Program, error) {
	prog, err := loadProgramSpec(spec, &opts, c, syms)
	if err != nil {
		return nil, fmt.Errorf("program %q: %w", spec.Name, err)
	}
	return prog, nil
}

func loadProgramSpec(spec *ProgramSpec, opts *ProgramOptions, c *btf.Cache, syms *kallsymsCache) (*Program, error) {
	if len(spec.Instructions) == 0 {
		return nil, errors.New("no instructions")
	}
	if spec.Type == UnspecifiedProgram {
		return nil, errors.New("program type is unspecified")
	}
	if spec.ByteOrder != nil && !isNativeEndian(spec.ByteOrder) {
		return nil, fmt.Errorf("instructions are %s, the kernel needs %s", spec.ByteOrder, internal.NativeEndian)
	}

	// types is the program's BTF: its functions (from func info) and the
	// local types CO-RE relocations ask for the IDs of.
	var types btf.Builder
	if syms == nil {
		syms = newKallsymsCache(spec.Instructions)
	}
	kt := newKernelTypes(c, syms)
	defer kt.Close()
	insns, err := linkProgram(spec, opts, kt, &types)
	if err != nil {
		return nil, err
	}
	kconfigMap, err := resolveKconfigReferences(insns)
	if err != nil {
		return nil, err
	}
	if kconfigMap != nil {
		// The program holds its own reference once loaded.
		defer kconfigMap.Close()
	}

	code := make([]byte, 0, insns.Size())
	buf := bytes.NewBuffer(code)
	if err := insns.Marshal(buf, internal.NativeEndian); err != nil {
		return nil, err
	}
	code = buf.Bytes()

	attr := sys.ProgLoadAttr{
		ProgType:           sys.ProgType(spec.Type),
		InsnCnt:            uint32(len(code) / asm.InstructionSize),
		Insns:              sys.NewSlicePointer(code),
		ProgFlags:          spec.Flags,
		ProgIfindex:        spec.Ifindex,
		ExpectedAttachType: sys.AttachType(spec.AttachType),
		KernVersion:        spec.KernelVersion,
	}
	if spec.License != "" {
		attr.License = sys.NewStringPointer(spec.License)
	}
	if spec.Type == Kprobe && attr.KernVersion == 0 {
		// Kernels before 5.0 refuse kprobes whose version differs from
		// their own.
		if v, err := internal.KernelVersion(); err == nil {
			attr.KernVersion = v.Kernel()
		}
	}
	if attr.ProgName, err = objName(spec.Name); err != nil {
		return nil, err
	}
	if err := resolveAttachTarget(spec, &attr, kt); err != nil {
		return nil, err
	}
	if spec.AttachTarget != nil {
		defer runtime.KeepAlive(spec.AttachTarget)
	}

	if fds := kt.fdArray(); fds != nil {
		// The BTF of the modules whose kfuncs the program calls.
		attr.FdArray = sys.NewSlicePointer(fds)
	}

	handle, err := loadProgramBTF(&attr, insns, &types)
	if err != nil {
		return nil, err
	}
	if handle != nil {
		// The program keeps its own reference to the BTF.
		defer handle.Close()
	}

	fd, log, err := loadWithLog(&attr, *opts)
	if err != nil {
		return nil, explainLoadError(spec, insns, err)
	}
	return &Program{VerifierLog: log, fd: fd, name: spec.Name, typ: spec.Type}, nil
}

// isNativeEndian reports whether bo is the host's byte order, whatever
// value stands for it (binary.LittleEndian, binary.NativeEndian, ...).
func isNativeEndian(bo binary.ByteOrder) bool {
	return bo.Uint16([]byte{1, 0}) == internal.NativeEndian.Uint16([]byte{1, 0})
}

// loadProgramBTF loads the program's BTF (functions and the types CO-RE
// asked for) into the kernel and points attr at it and at the func and
// line info records of insns. It returns nil when the program has no BTF.
//
// Kernels before 5.0 take no func or line info: the program loads without
// them (only error messages lose the source lines), unless CO-RE needs the
// program's BTF for local type IDs.
func loadProgramBTF(attr *sys.ProgLoadAttr, insns asm.Instructions, types *btf.Builder) (*btf.Handle, error) {
	needsBTF := !types.Empty()
	funcInfos, lineInfos, err := btf.MarshalExtInfos(insns, types)
	if err != nil {
		return nil, fmt.Errorf("func and line info: %w", err)
	}
	if len(funcInfos) == 0 && len(lineInfos) == 0 && !needsBTF {
		return nil, nil
	}

	if err := haveProgramExtInfos(); errors.Is(err, ErrNotSupported) {
		if needsBTF {
			return nil, fmt.Errorf("CO-RE relocations of local type IDs need program BTF: %w", err)
		}
		return nil, nil
	} else if err != nil {
		return nil, err
	}

	handle, err := btf.NewHandle(types)
	if err != nil {
		return nil, fmt.Errorf("load program BTF: %w", err)
	}
	attr.ProgBtfFd = uint32(handle.FD())
	if len(funcInfos) > 0 {
		attr.FuncInfoRecSize = btf.FuncInfoSize
		attr.FuncInfoCnt = uint32(len(funcInfos)) / btf.FuncInfoSize
		attr.FuncInfo = sys.NewSlicePointer(funcInfos)
	}
	if len(lineInfos) > 0 {
		attr.LineInfoRecSize = btf.LineInfoSize
		attr.LineInfoCnt = uint32(len(lineInfos)) / btf.LineInfoSize
		attr.LineInfo = sys.NewSlicePointer(lineInfos)
	}
	return handle, nil
}

// loadWithLog runs BPF_PROG_LOAD as opts asks: without a log first unless
// a LogLevel is set, and then with a log buffer that grows until the log
// fits. It returns the log of a successful load that asked for one, and a
// *VerifierError for a rejected program.
func loadWithLog(attr *sys.ProgLoadAttr, opts ProgramOptions) (*sys.FD, string, error) {
	level := opts.LogLevel
	if opts.LogDisabled {
		level = 0
	}

	if level == 0 {
		fd, err := sys.ProgLoad(attr)
		if err == nil {
			return fd, "", nil
		}
		if errors.Is(err, unix.EPERM) {
			// A privilege problem shows before the verifier runs: there is
			// no log to keep (so no *VerifierError, as with cilium/ebpf),
			// and a second load would only repeat it.
			return nil, "", fmt.Errorf("load program: %w", err)
		}
		if opts.LogDisabled {
			return nil, "", internal.NewVerifierError("load program", err, nil, false)
		}
		// Load again for the verifier's reason; the log of this load is
		// not what the caller asked for, so it is not kept on success.
		fd, _, err = loadLogged(attr, LogLevelBranch, opts.LogSizeStart, maxLogSize)
		return fd, "", err
	}
	return loadLogged(attr, level, opts.LogSizeStart, maxLogSize)
}

// loadLogged loads with a log of the given level, growing the buffer and
// loading again while the kernel says the log didn't fit (ENOSPC).
// limit is the largest buffer to try, maxLogSize but for tests.
func loadLogged(attr *sys.ProgLoadAttr, level LogLevel, size, limit uint32) (*sys.FD, string, error) {
	if size == 0 {
		size = defaultLogSize
	}
	size = max(size, minLogSize)
	size = min(size, limit)

	defer func() {
		attr.LogLevel, attr.LogSize, attr.LogBuf, attr.LogTrueSize = 0, 0, sys.Pointer{}, 0
	}()
	var prev []byte
	for {
		buf := make([]byte, size)
		attr.LogLevel = uint32(level)
		attr.LogSize = size
		attr.LogBuf = sys.NewSlicePointer(buf)
		attr.LogTrueSize = 0

		fd, err := sys.ProgLoad(attr)
		if err == nil {
			return fd, logString(buf), nil
		}

		switch {
		case errors.Is(err, unix.EINVAL) && prev != nil && size > oldMaxLogSize:
			// A kernel before 5.2 refuses a log this big: what the last
			// buffer holds is all we get.
			return nil, "", internal.NewVerifierError("load program", unix.ENOSPC, prev, true)

		case errors.Is(err, unix.ENOSPC) && logFull(buf, attr.LogTrueSize):
			if size == limit {
				return nil, "", internal.NewVerifierError("load program", err, buf, true)
			}
			next := uint64(size) * 2
			if attr.LogTrueSize > size {
				// Linux 6.4 says how much it needs.
				next = uint64(attr.LogTrueSize)
			}
			size = uint32(min(next, uint64(limit)))
			prev = buf
			continue
		}
		if errors.Is(err, unix.EPERM) && buf[0] == 0 {
			// Refused before the verifier wrote anything.
			return nil, "", fmt.Errorf("load program: %w", err)
		}
		return nil, "", internal.NewVerifierError("load program", err, buf, false)
	}
}

// logFull reports whether an ENOSPC was about the log: the kernel said it
// needed more (6.4 and later) or, where it doesn't say, the buffer is full.
func logFull(buf []byte, trueSize uint32) bool {
	if trueSize != 0 {
		return trueSize > uint32(len(buf))
	}
	return len(buf) >= 2 && buf[len(buf)-2] != 0
}

func logString(buf []byte) string {
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i]
	}
	return string(buf)
}

// explainLoadError turns a failed load into the most useful error: the
// missing program type or attach type when a probe shows the kernel lacks
// it, the CO-RE relocation or kfunc behind a poisoned instruction, and
// otherwise the verifier's error with the source line of the rejected
// instruction.
func explainLoadError(spec *ProgramSpec, insns asm.Instructions, err error) error {
	if perr := (*sys.PermissionError)(nil); errors.As(err, &perr) {
		if perr.Privileged && kernelAtLeast("5.11") {
			// Not a missing privilege (nor, since 5.11, RLIMIT_MEMLOCK):
			// the kernel refuses the program type itself (tracing, LSM and
			// extension programs under lockdown, some LSM policies or a
			// restricted build). The wrapped error says what the process
			// holds and lacks.
			return fmt.Errorf("the kernel refuses %s programs: %w", spec.Type, err)
		}
		return err
	}

	var ve *internal.VerifierError
	if !errors.As(err, &ve) {
		return err
	}

	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.E2BIG) {
		if perr := haveProgramType(spec.Type); errors.Is(perr, ErrNotSupported) {
			return perr
		}
		if spec.AttachType != AttachNone {
			if perr := haveAttachType(spec.Type, spec.AttachType); errors.Is(perr, ErrNotSupported) {
				return perr
			}
		}
	}

	if spec.AttachType == AttachModifyReturn && errors.Is(err, unix.EINVAL) && logContains(ve.Log, "is not modifiable") {
		// Kernels allow fmod_ret only on security hooks and on functions
		// marked for error injection, which needs
		// CONFIG_FUNCTION_ERROR_INJECTION.
		return fmt.Errorf("%w: %w", &internal.UnsupportedFeatureError{
			Name: fmt.Sprintf("fmod_ret on %s (not a function the kernel allows to modify: CONFIG_FUNCTION_ERROR_INJECTION)", spec.AttachTo),
		}, ve)
	}

	if n, ok := internal.RejectedInstruction(ve.Log); ok {
		if ins, idx, ok := instructionAtOffset(insns, n); ok {
			if perr := poisonError(ins, n); perr != nil {
				return fmt.Errorf("%w: %w", perr, ve)
			}
			ve.Source = sourceLine(insns, idx)
		}
	}
	if ve.Source == "" {
		ve.Source = internal.LogSource(ve.Log)
	}
	return ve
}

// logContains reports whether a line of the verifier's log contains s.
func logContains(log []string, s string) bool {
	for _, line := range log {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}
