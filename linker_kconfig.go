package ebpf

import (
	"debug/elf"
	"errors"
	"fmt"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/kallsyms"
	"github.com/bpfkit/ebpf/internal/kconfig"
	"github.com/bpfkit/ebpf/internal/linux"
)

// resolveKconfigReferences gives the reads of .kconfig externs of a
// program loaded on its own a map holding their values, made by the same
// code as a collection's (linkKconfig): CONFIG_* from the running kernel's
// configuration, LINUX_KERNEL_VERSION, LINUX_HAS_SYSCALL_WRAPPER and
// LINUX_HAS_BPF_COOKIE from the kernel. Instructions that already have a
// map (a collection's) are left alone.
//
// It returns the map, which the caller closes once the program is loaded
// (the program keeps its own reference), or nil if the program reads no
// extern. A strong extern the kernel doesn't define is an error naming it;
// a weak one reads zero.
func resolveKconfigReferences(insns asm.Instructions) (_ *Map, err error) {
	var k *kconfigMap
	defer func() {
		if err != nil && k != nil {
			k.m.Close()
		}
	}()

	for i := range insns {
		ins := &insns[i]
		meta, _ := ins.Metadata.Get(kconfigMetaKey{}).(*kconfigMeta)
		if meta == nil || ins.Map() != nil {
			continue
		}
		if err := linkKconfig(&k, ins, meta); err != nil {
			return nil, err
		}
	}
	if k == nil {
		return nil, nil
	}
	return k.m, nil
}

// linkKconfig points ins, a load of the address of the .kconfig extern
// meta describes, at the .kconfig map *k, which it creates and fills the
// first time (newKconfigMap). A program loaded alone and a collection
// both link through it, so they read the same values and fail with the
// same errors: for a strong extern the kernel doesn't define, naming it,
// and for instructions reading from two different .kconfig maps.
func linkKconfig(k **kconfigMap, ins *asm.Instruction, meta *kconfigMeta) error {
	if *k == nil {
		m, err := newKconfigMap(meta.Map)
		if err != nil {
			return fmt.Errorf("map \".kconfig\": %w", err)
		}
		*k = m
	} else if (*k).spec != meta.Map {
		return errors.New("instructions read from more than one .kconfig map")
	}

	name := (*k).externAt(meta.Offset)
	if err := (*k).missing[name]; err != nil && meta.Binding != elf.STB_WEAK {
		return fmt.Errorf("kconfig extern %q: %w", name, err)
	}
	// The low half of the constant holds the relocation's addend (a
	// constant index into a char array); the high half becomes the
	// offset into the map's value.
	addend := uint32(ins.Constant)
	if err := ins.AssociateMap((*k).m); err != nil {
		return fmt.Errorf("kconfig extern %q: %w", name, err)
	}
	if err := ins.RewriteMapOffset(meta.Offset + addend); err != nil {
		return fmt.Errorf("kconfig extern %q: %w", name, err)
	}
	return nil
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
