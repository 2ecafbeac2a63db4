package features

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/typeprobe"
)

// HaveProgramType reports whether the kernel can load programs of type pt;
// see the package documentation for what the error means. The probe loads
// a program that returns 0 (one bpf(2) call) the first time; those probes
// and their answers are shared with the root package (internal/typeprobe),
// which uses them to explain failed loads. Tracing, LSM and extension
// programs need an attach target: their probe loads one attached to a
// kernel function (reading the kernel's BTF) or, for extensions, to a
// program loaded for it; kernels that forbid these types even to root
// answer EPERM, which is returned (unmemoized).
//
// The error for ebpf.UnspecifiedProgram and values the library doesn't
// know does not wrap ebpf.ErrNotSupported.
func HaveProgramType(pt ebpf.ProgramType) (err error) {
	if _, ok := targetProgramTypes[pt]; ok {
		return targetProgramTypes.Result(pt)
	}
	return typeprobe.HaveProgType(pt)
}

// loadFor returns the throwaway load of a program of type pt, with the
// expected attach type and flags the type requires.
func loadFor(pt ebpf.ProgramType) programLoad {
	info := typeprobe.ProgTypes()[sys.ProgType(pt)]
	return programLoad{typ: pt, attach: ebpf.AttachType(info.Attach), flags: info.Flags}
}

// targetProgramTypes probes the program types that internal/typeprobe
// can't: their programs load only with an attach target, which takes the
// root package's loader.
var targetProgramTypes = internal.FeatureMatrix[ebpf.ProgramType]{
	ebpf.Tracing: {Fn: func() error {
		// fentry on a function every kernel with BPF has.
		return probeSpec(&ebpf.ProgramSpec{
			Type: ebpf.Tracing, AttachType: ebpf.AttachTraceFEntry, AttachTo: "bpf_init",
			Instructions: returnZero, License: "GPL",
		})
	}},
	ebpf.Extension: {Fn: probeExtension},
	ebpf.LSM: {Fn: func() error {
		return probeSpec(&ebpf.ProgramSpec{
			Type: ebpf.LSM, AttachType: ebpf.AttachLSMMac, AttachTo: "file_mprotect",
			Instructions: returnZero, License: "GPL",
		})
	}},
}

func init() {
	for pt, ft := range targetProgramTypes {
		// The first kernel with the type is in the shared table.
		ft.Name = typeprobe.ProgTypeName(sys.ProgType(pt))
		ft.Version = typeprobe.ProgTypes()[sys.ProgType(pt)].Version
		ft.Fn = typeprobe.Configured(ft.Name, ft.Version, ft.Fn)
	}
}

// probeExtension loads an XDP program with BTF for its function and an
// extension replacing that function.
func probeExtension() error {
	fn := &btf.Func{
		Name: "probe_target",
		Type: &btf.FuncProto{
			Return: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed},
			Params: []btf.FuncParam{
				{Name: "ctx", Type: &btf.Pointer{Target: &btf.Struct{Name: "xdp_md"}}},
			},
		},
		Linkage: btf.GlobalFunc,
	}
	insns := asm.Instructions{
		btf.WithFuncMetadata(asm.Mov.Imm(asm.R0, 0), fn),
		asm.Return(),
	}
	target, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Type: ebpf.XDP, Instructions: insns, License: "GPL",
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return fmt.Errorf("load the program to extend: %w", err)
	}
	defer target.Close()
	return probeSpec(&ebpf.ProgramSpec{
		Type: ebpf.Extension, Instructions: insns, License: "GPL",
		AttachTarget: target, AttachTo: fn.Name,
	})
}

// HaveProgramHelper reports whether programs of type pt may call helper;
// see the package documentation for what the error means. The error says
// whether the kernel lacks the helper altogether or only for this type.
// The probe loads a program calling the helper, with a verifier log (one
// bpf(2) call), the first time for each pair.
//
// Tracing, LSM, extension and struct_ops programs can't be probed this
// way: for them the error does not wrap ebpf.ErrNotSupported.
func HaveProgramHelper(pt ebpf.ProgramType, helper asm.BuiltinFunc) error {
	switch pt {
	case ebpf.Tracing, ebpf.LSM, ebpf.Extension, ebpf.StructOps:
		return fmt.Errorf("no probe for helper %s in program type %s: the program needs an attach target", helper, pt)
	}
	if err := HaveProgramType(pt); err != nil {
		return err
	}

	key := helperKey{pt, helper}
	helperTestsMu.Lock()
	test := helperTests[key]
	if test == nil {
		test = internal.NewFeatureTest(fmt.Sprintf("helper %s for program type %s", helper, pt), func() error {
			return probeHelper(pt, helper)
		}, "")
		helperTests[key] = test
	}
	helperTestsMu.Unlock()
	return test()
}

type helperKey struct {
	pt     ebpf.ProgramType
	helper asm.BuiltinFunc
}

var (
	helperTestsMu sync.Mutex
	helperTests   = map[helperKey]func() error{}
)

// probeHelper loads a program that calls helper with whatever the
// registers hold. The verifier checks that the helper exists and that the
// program type may call it before it checks the arguments, so a rejection
// of the arguments (EACCES, or EINVAL with another reason) still means the
// helper is there.
func probeHelper(pt ebpf.ProgramType, helper asm.BuiltinFunc) error {
	pl := loadFor(pt)
	pl.insns = asm.Instructions{helper.Call(), asm.Mov.Imm(asm.R0, 0), asm.Return()}
	pl.log = make([]byte, 4096)
	err := pl.load()
	if err == nil || errors.Is(err, unix.EACCES) {
		return nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return err
	}

	log := string(pl.log)
	if i := strings.IndexByte(log, 0); i >= 0 {
		log = log[:i]
	}
	tag := fmt.Sprintf("#%d\n", helper)
	switch {
	case logLineHas(log, "invalid func ", tag):
		// The kernel has no helper of this number.
		return ebpf.ErrNotSupported
	case logLineHas(log, "program of this type cannot use helper ", tag),
		logLineHas(log, "unknown func ", tag):
		// The kernel says this for helpers the type may not call, and
		// for those that lockdown or a missing capability withhold
		// (bpf_probe_write_user, bpf_probe_read_kernel). Kernels before
		// 6.4 word it "unknown func".
		return &internal.UnsupportedFeatureError{
			Name: fmt.Sprintf("helper %s for program type %s (the kernel has it but refuses it here: wrong program type, or lockdown)", helper, pt),
		}
	case logLineHas(log, "unknown func ", tag):
		// Kernels before 5.0 say this in both cases.
		return ebpf.ErrNotSupported
	}
	// Rejected for its arguments: the helper exists.
	return nil
}

// logLineHas reports whether a line of log contains prefix followed, on
// the same line, by suffix (which may end with the newline).
func logLineHas(log, prefix, suffix string) bool {
	for line := range strings.SplitAfterSeq(log, "\n") {
		if strings.Contains(line, prefix) && strings.HasSuffix(line, suffix) {
			return true
		}
	}
	return false
}
