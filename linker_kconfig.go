package ebpf

import (
	"debug/elf"
	"fmt"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/kallsyms"
	"github.com/bpfkit/ebpf/internal/kconfig"
	"github.com/bpfkit/ebpf/internal/linux"
)

// resolveKconfigReferences gives the reads of .kconfig externs of a
// program loaded on its own a map holding their values (newKconfigMap,
// collection_kconfig.go, which a collection shares between its programs):
// CONFIG_* from the running kernel's configuration, LINUX_KERNEL_VERSION,
// LINUX_HAS_SYSCALL_WRAPPER and LINUX_HAS_BPF_COOKIE from the kernel.
// Instructions that already have a map (a collection's) are left alone.
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

	iter := insns.Iterate()
	for iter.Next() {
		ins := iter.Ins
		meta, _ := ins.Metadata.Get(kconfigMetaKey{}).(*kconfigMeta)
		if meta == nil || ins.Map() != nil {
			continue
		}
		if k == nil {
			if k, err = newKconfigMap(meta.Map); err != nil {
				return nil, fmt.Errorf("map \".kconfig\": %w", err)
			}
		} else if k.spec != meta.Map {
			return nil, fmt.Errorf("instruction %d: reads a second .kconfig map", iter.Offset)
		}

		name := k.externAt(meta.Offset)
		if err := k.missing[name]; err != nil && meta.Binding != elf.STB_WEAK {
			return nil, fmt.Errorf("instruction %d: kconfig extern %q: %w", iter.Offset, name, err)
		}
		// The low half of the constant holds the relocation's addend (a
		// constant index into a char array); the high half becomes the
		// offset into the map's value.
		addend := uint32(ins.Constant)
		if err := ins.AssociateMap(k.m); err != nil {
			return nil, fmt.Errorf("instruction %d: %w", iter.Offset, err)
		}
		if err := ins.RewriteMapOffset(meta.Offset + addend); err != nil {
			return nil, fmt.Errorf("instruction %d: %w", iter.Offset, err)
		}
	}
	if k == nil {
		return nil, nil
	}
	return k.m, nil
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
