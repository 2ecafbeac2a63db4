package ebpf

import (
	"debug/elf"
	"errors"
	"fmt"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
)

// kfuncPoisonBase is the helper number a call of a weak kfunc the kernel
// lacks is turned into, plus the index of the call (as libbpf does). The
// verifier rejects such a call only if it is reachable; programs guard
// it with a test of the kfunc's address, which is zero.
const kfuncPoisonBase = 2002000000

// resolveKfuncs points calls of kernel functions (kfuncs, declared in the
// object's .ksyms) and loads of their addresses at the kernel's BTF: the
// BTF ID of the function and, for a module's function, the index of the
// module's BTF in the program's fd_array. The prototype the program was
// compiled against must match the kernel's.
//
// A weak kfunc the kernel lacks turns its calls into poisoned helper calls
// and its address into zero. A strong one is an error wrapping
// ErrNotSupported. Requires Linux 5.13 (kfuncs of modules: 5.18).
func resolveKfuncs(insns asm.Instructions, kt *kernelTypes) error {
	poisoned := 0
	iter := insns.Iterate()
	for iter.Next() {
		ins := iter.Ins
		meta, _ := ins.Metadata.Get(kfuncMetaKey{}).(*kfuncMeta)
		if meta == nil {
			continue
		}
		if meta.Func == nil {
			return fmt.Errorf("instruction %d: kfunc %q without BTF", iter.Offset, ins.Reference())
		}
		name := meta.Func.Name

		var fn *btf.Func
		spec, module, err := kt.find(name, "", &fn)
		if errors.Is(err, btf.ErrNotFound) || errors.Is(err, ErrNotSupported) {
			if meta.Binding == elf.STB_WEAK {
				if ins.IsKfuncCall() {
					poisonCall(ins, kfuncPoisonBase+poisoned)
					poisoned++
				} else {
					ins.Src, ins.Constant = 0, 0
				}
				continue
			}
			return fmt.Errorf("instruction %d: %w", iter.Offset, &internal.UnsupportedFeatureError{
				Name: fmt.Sprintf("kfunc %q (in neither the kernel's nor a module's BTF)", name),
			})
		}
		if err != nil {
			return fmt.Errorf("instruction %d: kfunc %q: %w", iter.Offset, name, err)
		}

		if err := btf.CheckTypeCompatibility(meta.Func.Type, fn.Type); err != nil {
			return fmt.Errorf("instruction %d: kfunc %q: prototype doesn't match the kernel's: %w", iter.Offset, name, err)
		}
		id, err := spec.TypeID(fn)
		if err != nil {
			return fmt.Errorf("instruction %d: kfunc %q: %w", iter.Offset, name, err)
		}

		switch {
		case ins.IsKfuncCall():
			idx, err := kt.fdIndex(module)
			if err != nil {
				return fmt.Errorf("instruction %d: kfunc %q: %w", iter.Offset, name, err)
			}
			ins.Constant = int64(id)
			ins.Offset = idx
		case ins.OpCode.IsDWordLoad():
			fd, err := moduleFD(kt, module)
			if err != nil {
				return fmt.Errorf("instruction %d: kfunc %q: %w", iter.Offset, name, err)
			}
			ins.Src = asm.PseudoBTFID
			ins.Constant = int64(uint32(id)) | int64(fd)<<32
		default:
			return fmt.Errorf("instruction %d: kfunc %q used by %v, neither a call nor a 64-bit load", iter.Offset, name, ins.OpCode)
		}
	}
	return nil
}

// moduleFD returns the fd of module's BTF handle, as the second half of a
// BPF_PSEUDO_BTF_ID load takes it, or 0 for the kernel's own BTF.
func moduleFD(kt *kernelTypes, module string) (uint32, error) {
	if module == "" {
		return 0, nil
	}
	h, err := kt.handle(module)
	if err != nil {
		return 0, err
	}
	return uint32(h.FD()), nil
}

// poisonCall turns ins into a call of the helper fn, which doesn't exist,
// keeping its metadata so that a verifier error there can be explained.
func poisonCall(ins *asm.Instruction, fn int) {
	meta := ins.Metadata
	*ins = asm.BuiltinFunc(fn).Call()
	ins.Metadata = meta
}
