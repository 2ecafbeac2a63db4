package ebpf

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/kallsyms"
)

// resolveKsyms resolves loads of the addresses of kernel variables declared
// in the object's .ksyms:
//
//   - a typeless variable (extern const void sym __ksym) gets its address
//     from /proc/kallsyms, written into the load (see
//     resolveTypelessKsyms and kallsymsCache);
//   - a typed one becomes a BPF_PSEUDO_BTF_ID load of the variable's BTF
//     ID (and its module's BTF), which the kernel resolves (Linux 5.10).
//
// A weak variable the kernel lacks loads zero; a missing strong one is an
// error naming it.
func resolveKsyms(insns asm.Instructions, kt *kernelTypes) error {
	iter := insns.Iterate()
	for iter.Next() {
		ins := iter.Ins
		meta, _ := ins.Metadata.Get(ksymMetaKey{}).(*ksymMeta)
		if meta == nil || isTypeless(meta.Type) {
			continue
		}
		if !ins.OpCode.IsDWordLoad() {
			return fmt.Errorf("instruction %d: kernel symbol %q used by %v, not a 64-bit load", iter.Offset, meta.Name, ins.OpCode)
		}

		var v *btf.Var
		spec, module, err := kt.find(meta.Name, "", &v)
		if errors.Is(err, btf.ErrNotFound) || errors.Is(err, ErrNotSupported) {
			if meta.Binding == elf.STB_WEAK {
				ins.Src, ins.Constant = 0, 0
				continue
			}
			return fmt.Errorf("instruction %d: kernel variable %q: %w", iter.Offset, meta.Name, err)
		}
		if err != nil {
			return fmt.Errorf("instruction %d: kernel variable %q: %w", iter.Offset, meta.Name, err)
		}
		id, err := spec.TypeID(v)
		if err != nil {
			return fmt.Errorf("instruction %d: kernel variable %q: %w", iter.Offset, meta.Name, err)
		}
		fd, err := moduleFD(kt, module)
		if err != nil {
			return fmt.Errorf("instruction %d: kernel variable %q: %w", iter.Offset, meta.Name, err)
		}
		ins.Src = asm.PseudoBTFID
		ins.Constant = int64(uint32(id)) | int64(fd)<<32
	}
	return resolveTypelessKsyms(insns, kt.syms)
}

// resolveTypelessKsyms writes the /proc/kallsyms address of every typeless
// .ksyms variable (extern const void sym __ksym) that insns load, as syms
// knows it or looks it up (one pass over kallsyms for all the programs of
// a load, see kallsymsCache), and removes the ksym metadata of the
// instructions it resolved.
//
// A weak symbol kallsyms lacks loads zero; a strong one is an error naming
// it, wrapping os.ErrNotExist, or ErrRestrictedKernel when the kernel hides
// addresses (kernel.kptr_restrict).
func resolveTypelessKsyms(insns asm.Instructions, syms *kallsymsCache) error {
	if err := syms.lookupAddresses(insns); err != nil {
		return err
	}
	iter := insns.Iterate()
	for iter.Next() {
		ins := iter.Ins
		meta, _ := ins.Metadata.Get(ksymMetaKey{}).(*ksymMeta)
		if meta == nil || !isTypeless(meta.Type) {
			continue
		}
		if !ins.OpCode.IsDWordLoad() {
			return fmt.Errorf("instruction %d: kernel symbol %q used by %v, not a 64-bit load", iter.Offset, meta.Name, ins.OpCode)
		}
		addr, ok := syms.address(meta.Name)
		if !ok {
			return fmt.Errorf("instruction %d: kernel symbol %q: not looked up in %s", iter.Offset, meta.Name, kallsyms.Path)
		}
		if addr == 0 && meta.Binding != elf.STB_WEAK {
			if syms.restricted {
				return fmt.Errorf("instruction %d: kernel symbol %q: %w", iter.Offset, meta.Name, ErrRestrictedKernel)
			}
			return fmt.Errorf("instruction %d: kernel symbol %q: not in %s: %w", iter.Offset, meta.Name, kallsyms.Path, os.ErrNotExist)
		}
		ins.Src = 0
		ins.Constant = int64(addr)
		ins.Metadata.Set(ksymMetaKey{}, nil)
	}
	return nil
}

// isTypeless reports whether a .ksyms variable was declared without a
// type (const void), which makes the loader look it up in kallsyms.
func isTypeless(t btf.Type) bool {
	switch btf.UnderlyingType(t).(type) {
	case nil, *btf.Void:
		return true
	}
	return false
}
