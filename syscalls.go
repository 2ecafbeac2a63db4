package ebpf

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/typeprobe"
)

// Feature probes of the loader. Each runs at most once per process (see
// internal.NewFeatureTest) and only when a load needs its answer: a name
// to give, or a failed load to explain.

// haveObjName reports whether the kernel takes names for maps and programs
// (Linux 4.15). Older kernels refuse the attribute as a non-zero tail of
// bpf_attr.
var haveObjName = internal.NewFeatureTest("object names", func() error {
	return probeMapName("feature_test")
}, "4.15")

// objNameAllowsDot reports whether names may contain a dot (Linux 5.2),
// as the names of data sections (".rodata") do.
var objNameAllowsDot = internal.NewFeatureTest("dot in object names", func() error {
	return probeMapName(".test")
}, "5.2")

func probeMapName(name string) error {
	return typeprobe.CreateMap(&sys.MapCreateAttr{
		MapType:    sys.BPF_MAP_TYPE_ARRAY,
		KeySize:    4,
		ValueSize:  4,
		MaxEntries: 1,
		MapName:    sys.NewObjName(name),
	})
}

// objName makes the kernel's name for a map or program: the characters it
// accepts, cut to 15 bytes (see sys.NewObjName). Kernels before 4.15 take
// no name, so they get none; dots, which 5.2 allowed, are dropped before.
// The probes it consults run once per process.
func objName(name string) (sys.ObjName, error) {
	if name == "" {
		return sys.ObjName{}, nil
	}
	if err := haveObjName(); errors.Is(err, ErrNotSupported) {
		return sys.ObjName{}, nil
	} else if err != nil {
		return sys.ObjName{}, err
	}
	if strings.IndexByte(name, '.') >= 0 {
		if err := objNameAllowsDot(); errors.Is(err, ErrNotSupported) {
			name = strings.ReplaceAll(name, ".", "")
		} else if err != nil {
			return sys.ObjName{}, err
		}
	}
	return sys.NewObjName(name), nil
}

// haveProgramExtInfos reports whether programs may carry BTF func and line
// info (Linux 5.0): it loads a program with one func info record.
var haveProgramExtInfos = internal.NewFeatureTest("BTF func and line info for programs", func() error {
	var b btf.Builder
	fn := &btf.Func{
		Name:    "probe",
		Type:    &btf.FuncProto{Return: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}},
		Linkage: btf.StaticFunc,
	}
	id, err := b.Add(fn)
	if err != nil {
		return err
	}
	handle, err := btf.NewHandle(&b)
	if errors.Is(err, ErrNotSupported) {
		return internal.ErrNotSupported
	}
	if err != nil {
		return err
	}
	defer handle.Close()

	code, err := typeprobe.ReturnZero()
	if err != nil {
		return err
	}
	info := sys.FuncInfo{InsnOff: 0, TypeId: uint32(id)}
	attr := sys.ProgLoadAttr{
		ProgType:        sys.BPF_PROG_TYPE_SOCKET_FILTER,
		InsnCnt:         uint32(len(code) / asm.InstructionSize),
		Insns:           sys.NewSlicePointer(code),
		License:         sys.NewStringPointer("MIT"),
		ProgBtfFd:       uint32(handle.FD()),
		FuncInfoRecSize: uint32(unsafe.Sizeof(info)),
		FuncInfoCnt:     1,
		FuncInfo:        sys.NewPointer(unsafe.Pointer(&info)),
	}
	return typeprobe.Load(&attr)
}, "5.0")

// probeLoad loads a program returning 0 as the given type. EINVAL (an
// unknown type or attach type) and E2BIG (an attribute an old kernel
// lacks) mean the kernel doesn't support it.
func probeLoad(typ ProgramType, attach AttachType, flags uint32) error {
	return typeprobe.LoadProgram(sys.ProgType(typ), sys.AttachType(attach), flags)
}

// programTypeProbe says how to probe for a program type and which kernel
// introduced it. Types whose programs need a BTF attach target to load at
// all (tracing, LSM, extension) can't be probed with a throwaway program;
// their version is still named in messages.
type programTypeProbe struct {
	version string
	attach  AttachType // the expected attach type the type requires
	flags   uint32
	noProbe bool
}

// programTypeProbes is internal/typeprobe's table of program types (shared
// with features) in this package's types.
var programTypeProbes = func() map[ProgramType]programTypeProbe {
	table := typeprobe.ProgTypes()
	m := make(map[ProgramType]programTypeProbe, len(table))
	for pt, info := range table {
		m[ProgramType(pt)] = programTypeProbe{
			version: info.Version,
			attach:  AttachType(info.Attach),
			flags:   info.Flags,
			noProbe: info.NeedsTarget,
		}
	}
	return m
}()

// kernelAtLeast reports whether the running kernel is version or newer.
func kernelAtLeast(version string) bool {
	return typeprobe.KernelAtLeast(version)
}

// haveProgramType returns an error wrapping ErrNotSupported, "program type
// Netfilter not supported (requires >= v6.4)", if the kernel lacks typ,
// and nil for types it has, types the library doesn't know and types that
// can't be probed without an attach target. The probes are
// internal/typeprobe's, shared with features.HaveProgramType.
func haveProgramType(typ ProgramType) error {
	err := typeprobe.HaveProgType(typ)
	if errors.Is(err, typeprobe.ErrUnknown) {
		return nil
	}
	return err
}

type attachProbeKey struct {
	typ    ProgramType
	attach AttachType
}

var (
	attachTypeTestsMu sync.Mutex
	attachTypeTests   = map[attachProbeKey]func() error{}
)

// haveAttachType returns an error wrapping ErrNotSupported if the kernel
// refuses attach as the expected attach type of a program of type typ
// (which it has). Types that need a BTF attach target are not probed, nor
// are struct_ops programs, which the kernel refuses without one (ENOTSUPP)
// whatever the attach type.
func haveAttachType(typ ProgramType, attach AttachType) error {
	p, ok := programTypeProbes[typ]
	if !ok || p.noProbe || typ == StructOps {
		return nil
	}
	if err := haveProgramType(typ); err != nil {
		return err
	}

	key := attachProbeKey{typ, attach}
	attachTypeTestsMu.Lock()
	test := attachTypeTests[key]
	if test == nil {
		test = internal.NewFeatureTest(fmt.Sprintf("attach type %s for program type %s", attach, typ), func() error {
			return probeLoad(typ, attach, p.flags)
		}, "")
		attachTypeTests[key] = test
	}
	attachTypeTestsMu.Unlock()
	return test()
}
