package ebpf

import (
	"fmt"

	"github.com/bpfkit/ebpf/asm"
)

// coreBadCall is the helper number a CO-RE relocation that found no target
// is poisoned with (0xbad2310, as libbpf does): the verifier rejects the
// call only if the instruction is reachable, so a guarded access to a
// field that some kernels lack still loads.
const coreBadCall = 0xbad2310

// poisonError explains a rejected instruction that the linker poisoned: it
// names what could not be resolved. It returns nil for any other
// instruction. off is the instruction's raw offset.
func poisonError(ins *asm.Instruction, off int) error {
	if !ins.IsBuiltinCall() {
		return nil
	}
	switch ins.Constant {
	case coreBadCall:
		return fmt.Errorf("instruction %d: CO-RE relocation has no target in the kernel's BTF", off)
	}
	return nil
}
