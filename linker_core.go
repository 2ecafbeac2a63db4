package ebpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
)

// applyCORE applies the CO-RE relocations attached to insns (by the ELF
// reader, as btf.CORERelocationMetadata) against the target BTF: opts'
// KernelTypes, or else the running kernel's and its modules' (shared
// through kt's cache, decoded lazily), followed by opts'
// ExtraRelocationTargets.
// Local type IDs that relocations ask for are added to b, the program's
// BTF. bo is the byte order the program was compiled for.
//
// A relocation without a target poisons its instruction (see
// btf.COREBadRelocationSentinel); the relocation record stays on it, so
// that a verifier error there can name the type and field.
func applyCORE(insns asm.Instructions, bo binary.ByteOrder, b *btf.Builder, kt *kernelTypes, opts *ProgramOptions) error {
	var (
		relos []*btf.CORERelocation
		at    []int
	)
	for i := range insns {
		if relo := btf.CORERelocationMetadata(&insns[i]); relo != nil {
			relos = append(relos, relo)
			at = append(at, i)
		}
	}
	if len(relos) == 0 {
		return nil
	}
	if bo == nil {
		bo = internal.NativeEndian
	}

	targets, err := coreTargets(kt, opts)
	if err != nil {
		return fmt.Errorf("CO-RE: %w", err)
	}
	fixups, err := btf.CORERelocate(relos, targets, bo, b.Add)
	if err != nil {
		return fmt.Errorf("CO-RE: %w", err)
	}
	for i := range fixups {
		if err := fixups[i].Apply(&insns[at[i]]); err != nil {
			return fmt.Errorf("instruction %d: CO-RE relocation %s: %w", rawOffset(insns, at[i]), relos[i], err)
		}
	}
	return nil
}

// coreTargets lists the BTF that CO-RE relocations are resolved against,
// in the order they are searched.
func coreTargets(kt *kernelTypes, opts *ProgramOptions) ([]*btf.Spec, error) {
	if opts.KernelTypes != nil {
		// A replacement for the kernel's BTF (such as btfhub's) holds the
		// types of vmlinux and modules merged.
		return append([]*btf.Spec{opts.KernelTypes}, opts.ExtraRelocationTargets...), nil
	}
	c := kt.btf()

	kernel, err := c.Kernel()
	if err != nil {
		return nil, fmt.Errorf("load kernel BTF: %w", err)
	}
	modules, err := c.Modules()
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrNotSupported) {
		return nil, fmt.Errorf("list kernel modules with BTF: %w", err)
	}
	targets := make([]*btf.Spec, 0, 1+len(modules)+len(opts.ExtraRelocationTargets))
	targets = append(targets, kernel)
	for _, name := range modules {
		spec, err := c.Module(name)
		if errors.Is(err, fs.ErrNotExist) {
			// Unloaded since it was listed.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("load BTF of module %s: %w", name, err)
		}
		targets = append(targets, spec)
	}
	return append(targets, opts.ExtraRelocationTargets...), nil
}

// rawOffset returns the raw offset (in 8-byte slots) of insns[i].
func rawOffset(insns asm.Instructions, i int) int {
	off := 0
	for j := range insns[:i] {
		off += int(insns[j].Width())
	}
	return off
}

// errCOREPoisoned is wrapped by the error of a program whose verifier
// rejection is a poisoned CO-RE relocation.
var errCOREPoisoned = errors.New("no target in the kernel's BTF")

// poisonError explains a rejected instruction that the linker poisoned,
// naming what could not be resolved; it returns nil for any other
// instruction. off is the instruction's raw offset.
func poisonError(ins *asm.Instruction, off int) error {
	if !ins.IsBuiltinCall() {
		return nil
	}
	switch {
	case ins.Constant == btf.COREBadRelocationSentinel:
		if relo := btf.CORERelocationMetadata(ins); relo != nil {
			return fmt.Errorf("instruction %d: CO-RE relocation %s: %w", off, relo, errCOREPoisoned)
		}
		return fmt.Errorf("instruction %d: CO-RE relocation: %w", off, errCOREPoisoned)
	case ins.Constant >= kfuncPoisonBase:
		if meta, _ := ins.Metadata.Get(kfuncMetaKey{}).(*kfuncMeta); meta != nil && meta.Func != nil {
			return fmt.Errorf("instruction %d: call of weak kfunc %q, which the kernel lacks: %w", off, meta.Func.Name, ErrNotSupported)
		}
	}
	return nil
}
