package ebpf

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/kallsyms"
	"github.com/bpfkit/ebpf/internal/kconfig"
	"github.com/bpfkit/ebpf/internal/linux"
)

// resolveKconfigReferences gives the program's reads of .kconfig externs
// a map holding their values, following libbpf: CONFIG_* from the running
// kernel's configuration, LINUX_KERNEL_VERSION, LINUX_HAS_SYSCALL_WRAPPER
// and LINUX_HAS_BPF_COOKIE from the kernel itself. Instructions that
// already have a map (given by the caller) are left alone.
//
// It returns the map, which the caller closes once the program is loaded
// (the program keeps its own reference), or nil if the program reads no
// extern. A strong extern the kernel doesn't define is an error naming it;
// a weak one reads zero.
func resolveKconfigReferences(insns asm.Instructions) (*Map, error) {
	var (
		spec   *MapSpec
		strong = make(map[uint32]bool)
	)
	iter := insns.Iterate()
	for iter.Next() {
		meta, _ := iter.Ins.Metadata.Get(kconfigMetaKey{}).(*kconfigMeta)
		if meta == nil || iter.Ins.Map() != nil {
			continue
		}
		if spec != nil && meta.Map != spec {
			return nil, fmt.Errorf("instruction %d: reads a second .kconfig map", iter.Offset)
		}
		spec = meta.Map
		if meta.Binding != elf.STB_WEAK {
			strong[meta.Offset] = true
		}
	}
	if spec == nil {
		return nil, nil
	}

	value, err := kconfigValue(spec, strong)
	if err != nil {
		return nil, err
	}
	cpy := spec.Copy()
	cpy.Contents = []MapKV{{Key: uint32(0), Value: value}}
	m, err := NewMap(cpy)
	if err != nil {
		return nil, fmt.Errorf("create .kconfig map: %w", err)
	}

	iter = insns.Iterate()
	for iter.Next() {
		ins := iter.Ins
		meta, _ := ins.Metadata.Get(kconfigMetaKey{}).(*kconfigMeta)
		if meta == nil || ins.Map() != nil {
			continue
		}
		// The low half of the constant holds the relocation's addend (a
		// constant index into a char array); the high half becomes the
		// offset into the map's value.
		addend := uint32(ins.Constant)
		if err := ins.AssociateMap(m); err != nil {
			m.Close()
			return nil, fmt.Errorf("instruction %d: %w", iter.Offset, err)
		}
		if err := ins.RewriteMapOffset(meta.Offset + addend); err != nil {
			m.Close()
			return nil, fmt.Errorf("instruction %d: %w", iter.Offset, err)
		}
	}
	return m, nil
}

// kconfigValue returns the value of the .kconfig map spec: its datasec's
// variables filled in. strong holds the offsets of the variables that must
// be set.
func kconfigValue(spec *MapSpec, strong map[uint32]bool) ([]byte, error) {
	ds, ok := spec.Value.(*btf.Datasec)
	if !ok {
		return nil, fmt.Errorf("map %s: value is %T, not a datasec", spec.Name, spec.Value)
	}
	value := make([]byte, spec.ValueSize)

	configNames := make(map[string]struct{})
	for _, vsi := range ds.Vars {
		if name := vsi.Type.TypeName(); strings.HasPrefix(name, "CONFIG_") {
			configNames[name] = struct{}{}
		}
	}
	var config map[string]string
	var configErr error
	if len(configNames) > 0 {
		config, configErr = kconfig.ParseKernel(configNames)
		if configErr != nil && !errors.Is(configErr, os.ErrNotExist) {
			return nil, fmt.Errorf("kernel configuration: %w", configErr)
		}
	}

	for _, vsi := range ds.Vars {
		v, ok := vsi.Type.(*btf.Var)
		if !ok {
			return nil, fmt.Errorf("map %s: %s is not a variable", spec.Name, vsi.Type)
		}
		if uint64(vsi.Offset)+uint64(vsi.Size) > uint64(len(value)) {
			return nil, fmt.Errorf("kconfig %q: beyond the end of the map value", v.Name)
		}
		data := value[vsi.Offset : vsi.Offset+vsi.Size]
		typ, err := kconfigType(v.Type, vsi.Size)
		if err != nil {
			return nil, fmt.Errorf("kconfig %q: %w", v.Name, err)
		}

		switch {
		case v.Name == "LINUX_KERNEL_VERSION":
			kv, err := internal.KernelVersion()
			if err != nil {
				return nil, fmt.Errorf("kconfig %q: %w", v.Name, err)
			}
			err = kconfig.PutUint(data, typ, uint64(kv.Kernel()), internal.NativeEndian)
			if err != nil {
				return nil, fmt.Errorf("kconfig %q: %w", v.Name, err)
			}
		case v.Name == "LINUX_HAS_SYSCALL_WRAPPER":
			err = kconfig.PutUint(data, typ, boolUint(hasSyscallWrapper()), internal.NativeEndian)
			if err != nil {
				return nil, fmt.Errorf("kconfig %q: %w", v.Name, err)
			}
		case v.Name == "LINUX_HAS_BPF_COOKIE":
			// BPF cookies (bpf_get_attach_cookie) came with Linux 5.15.
			err = kconfig.PutUint(data, typ, boolUint(kernelAtLeast("5.15")), internal.NativeEndian)
			if err != nil {
				return nil, fmt.Errorf("kconfig %q: %w", v.Name, err)
			}
		case strings.HasPrefix(v.Name, "CONFIG_"):
			raw, ok := config[v.Name]
			if !ok {
				if strong[vsi.Offset] {
					missing := fmt.Errorf("kconfig %q: not set in the kernel's configuration", v.Name)
					if configErr != nil {
						missing = fmt.Errorf("kconfig %q: %w", v.Name, configErr)
					}
					return nil, fmt.Errorf("%w: %w", missing, ErrNotSupported)
				}
				continue
			}
			if err := kconfig.PutValue(data, typ, raw, internal.NativeEndian); err != nil {
				return nil, fmt.Errorf("kconfig %q: %w", v.Name, err)
			}
		default:
			return nil, fmt.Errorf("kconfig %q: unknown extern (neither CONFIG_* nor a LINUX_* value the loader knows)", v.Name)
		}
	}
	return value, nil
}

// kconfigType describes the BTF type of a .kconfig extern for package
// kconfig, as libbpf classifies them.
func kconfigType(t btf.Type, size uint32) (kconfig.Type, error) {
	switch t := btf.UnderlyingType(t).(type) {
	case *btf.Int:
		switch t.Encoding {
		case btf.Bool:
			return kconfig.Type{Kind: kconfig.Bool, Size: int(t.Size)}, nil
		case btf.Char:
			return kconfig.Type{Kind: kconfig.Char, Size: int(t.Size)}, nil
		}
		return kconfig.Type{Kind: kconfig.Int, Size: int(t.Size), Signed: t.Encoding == btf.Signed}, nil
	case *btf.Enum:
		if t.Name == "libbpf_tristate" {
			return kconfig.Type{Kind: kconfig.Tristate, Size: int(t.Size)}, nil
		}
		return kconfig.Type{Kind: kconfig.Int, Size: int(t.Size), Signed: t.Signed}, nil
	case *btf.Array:
		if elem, ok := btf.UnderlyingType(t.Type).(*btf.Int); ok && elem.Size == 1 {
			return kconfig.Type{Kind: kconfig.CharArray, Size: int(t.Nelems)}, nil
		}
	}
	return kconfig.Type{}, fmt.Errorf("type %s (%d bytes) is not a kconfig type", t, size)
}

func boolUint(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// hasSyscallWrapper reports whether the kernel builds syscall entry points
// with wrappers (__x64_sys_bpf), as libbpf's LINUX_HAS_SYSCALL_WRAPPER
// says.
func hasSyscallWrapper() bool {
	prefix := linux.SyscallPrefix()
	if prefix == "" {
		return false
	}
	_, err := kallsyms.Module(prefix + "sys_bpf")
	return err == nil
}
