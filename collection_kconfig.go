package ebpf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/kconfig"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/typeprobe"
)

// .kconfig externs (`extern int CONFIG_HZ __kconfig;`) are read by
// programs from one frozen, read-only array map that the loader fills
// before the first program using it is verified, as libbpf does:
//
//   - CONFIG_* from the running kernel's build configuration
//     (/boot/config-$(uname -r) or /proc/config.gz), parsed only for the
//     names the object declares;
//   - LINUX_KERNEL_VERSION from the kernel's version;
//   - LINUX_HAS_SYSCALL_WRAPPER: whether syscalls are entered through
//     architecture-specific wrappers (__x64_sys_bpf), from kallsyms
//     (hasSyscallWrapper, linker_kconfig.go);
//   - LINUX_HAS_BPF_COOKIE: whether bpf_get_attach_cookie exists (5.15).
//
// An extern the kernel doesn't define is zero. That is what a weak extern
// asks for; a program reading a strong one fails to load with an error
// naming it.

// kconfigMap is the loaded .kconfig map of a collection.
type kconfigMap struct {
	m    *Map
	spec *MapSpec
	ds   *btf.Datasec
	// missing holds, for each extern the kernel doesn't define, why not.
	missing map[string]error
}

// linkKconfig points ins, a load of the address of a .kconfig extern, at
// the collection's .kconfig map, creating and filling the map the first
// time (see linkKconfig in linker_kconfig.go, which programs loaded on
// their own share).
func (cl *collectionLoader) linkKconfig(ins *asm.Instruction, meta *kconfigMeta) error {
	return linkKconfig(&cl.kconfig, ins, meta)
}

// externAt names the .kconfig extern that holds the byte at off.
func (k *kconfigMap) externAt(off uint32) string {
	for _, vsi := range k.ds.Vars {
		if off >= vsi.Offset && off-vsi.Offset < max(vsi.Size, 1) {
			return vsi.Type.TypeName()
		}
	}
	return fmt.Sprintf("(offset %d)", off)
}

// newKconfigMap computes the values of the externs of spec's datasec and
// creates the map holding them, frozen.
func newKconfigMap(spec *MapSpec) (*kconfigMap, error) {
	ds, ok := spec.Value.(*btf.Datasec)
	if !ok {
		return nil, fmt.Errorf("value type is %T, not a BTF datasec", spec.Value)
	}
	if ds.Size != spec.ValueSize {
		return nil, fmt.Errorf("datasec is %d bytes, the value size %d", ds.Size, spec.ValueSize)
	}
	data, missing, err := kconfigValues(ds, kernelKconfig{})
	if err != nil {
		return nil, err
	}

	cpy := *spec
	cpy.Contents = []MapKV{{Key: uint32(0), Value: data}}
	cpy.Pinning = PinNone
	m, _, err := newMapWithOptions(&cpy, MapOptions{})
	if err != nil {
		return nil, err
	}
	if err := m.finalize(&cpy); err != nil {
		m.Close()
		return nil, err
	}
	return &kconfigMap{m: m, spec: spec, ds: ds, missing: missing}, nil
}

// kconfigSource answers what .kconfig externs ask about the kernel. Tests
// use a fake.
type kconfigSource interface {
	// config returns the values of the CONFIG_ names in filter that the
	// kernel's configuration sets; an error wrapping os.ErrNotExist
	// means there is no configuration to read.
	config(filter map[string]struct{}) (map[string]string, error)
	version() (uint32, error)
	syscallWrapper() (bool, error)
	bpfCookie() (bool, error)
}

// kconfigValues returns the bytes of a .kconfig map for the datasec ds:
// every extern the kernel defines, at its offset, and zeros for those it
// doesn't, whose names come with the reason in missing. It fails only for
// problems of the object (an extern of a type that can't hold a value, a
// value that doesn't fit its type) or when reading the kernel fails.
func kconfigValues(ds *btf.Datasec, src kconfigSource) ([]byte, map[string]error, error) {
	data := make([]byte, ds.Size)
	missing := make(map[string]error)
	type pending struct {
		off, size uint32
		typ       kconfig.Type
	}
	configs := make(map[string]pending)

	for _, vsi := range ds.Vars {
		v, ok := vsi.Type.(*btf.Var)
		if !ok {
			return nil, nil, fmt.Errorf("datasec holds %s, not a variable", vsi.Type)
		}
		name := v.Name
		if uint64(vsi.Offset)+uint64(vsi.Size) > uint64(len(data)) {
			return nil, nil, fmt.Errorf("extern %q: %d bytes at offset %d are beyond the end of the datasec", name, vsi.Size, vsi.Offset)
		}
		typ, err := kconfigType(v.Type, vsi.Size)
		if err != nil {
			return nil, nil, fmt.Errorf("extern %q: %w", name, err)
		}
		if uint32(typ.Size) != vsi.Size {
			return nil, nil, fmt.Errorf("extern %q: type %s is %d bytes, the datasec gives it %d", name, typ, typ.Size, vsi.Size)
		}
		field := data[vsi.Offset : vsi.Offset+vsi.Size]

		var value uint64
		switch {
		case name == "LINUX_KERNEL_VERSION":
			v, err := src.version()
			if err != nil {
				return nil, nil, fmt.Errorf("extern %q: %w", name, err)
			}
			value = uint64(v)
		case name == "LINUX_HAS_SYSCALL_WRAPPER":
			ok, err := src.syscallWrapper()
			if err != nil {
				return nil, nil, fmt.Errorf("extern %q: %w", name, err)
			}
			value = boolUint(ok)
		case name == "LINUX_HAS_BPF_COOKIE":
			ok, err := src.bpfCookie()
			if err != nil {
				return nil, nil, fmt.Errorf("extern %q: %w", name, err)
			}
			value = boolUint(ok)
		case strings.HasPrefix(name, "CONFIG_"):
			configs[name] = pending{vsi.Offset, vsi.Size, typ}
			continue
		case strings.HasPrefix(name, "LINUX_"):
			missing[name] = fmt.Errorf("unknown LINUX_ extern: %w", ErrNotSupported)
			continue
		default:
			missing[name] = errors.New("not a CONFIG_ or LINUX_ name")
			continue
		}
		if err := kconfig.PutUint(field, typ, value, internal.NativeEndian); err != nil {
			return nil, nil, fmt.Errorf("extern %q: %w", name, err)
		}
	}
	if len(configs) == 0 {
		return data, missing, nil
	}

	filter := make(map[string]struct{}, len(configs))
	for name := range configs {
		filter[name] = struct{}{}
	}
	values, err := src.config(filter)
	if errors.Is(err, os.ErrNotExist) {
		for name := range configs {
			missing[name] = fmt.Errorf("no kernel configuration to read it from: %w", err)
		}
		return data, missing, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("kernel configuration: %w", err)
	}
	for _, name := range sortedKeys(configs) {
		p := configs[name]
		value, ok := values[name]
		if !ok {
			missing[name] = fmt.Errorf("not set in the kernel's configuration: %w", ErrNotSupported)
			continue
		}
		if err := kconfig.PutValue(data[p.off:p.off+p.size], p.typ, value, internal.NativeEndian); err != nil {
			return nil, nil, fmt.Errorf("extern %q: %w", name, err)
		}
	}
	return data, missing, nil
}

// kernelKconfig answers from the running kernel.
type kernelKconfig struct{}

func (kernelKconfig) config(filter map[string]struct{}) (map[string]string, error) {
	return kconfig.ParseKernel(filter)
}

func (kernelKconfig) version() (uint32, error) {
	v, err := internal.KernelVersion()
	if err != nil {
		return 0, err
	}
	return v.Kernel(), nil
}

func (kernelKconfig) syscallWrapper() (bool, error) {
	return hasSyscallWrapper(), nil
}

func (kernelKconfig) bpfCookie() (bool, error) {
	return featureBool(haveBPFCookie())
}

func featureBool(err error) (bool, error) {
	if errors.Is(err, ErrNotSupported) {
		return false, nil
	}
	return err == nil, err
}

// haveBPFCookie reports whether programs may call bpf_get_attach_cookie
// (Linux 5.15): it loads a tracepoint program that does.
var haveBPFCookie = internal.NewFeatureTest("bpf_get_attach_cookie", func() error {
	insns := asm.Instructions{
		asm.FnGetAttachCookie.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, internal.NativeEndian); err != nil {
		return err
	}
	code := buf.Bytes()
	return typeprobe.Load(&sys.ProgLoadAttr{
		ProgType: sys.ProgType(TracePoint),
		InsnCnt:  uint32(len(code) / asm.InstructionSize),
		Insns:    sys.NewSlicePointer(code),
		License:  sys.NewStringPointer("GPL"),
	})
}, "5.15")
