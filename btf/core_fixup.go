package btf

import (
	"fmt"
	"math"

	"github.com/bpfkit/ebpf/asm"
)

// COREFixup is the result of one CO-RE relocation: the value the compiler
// put into the instruction (local) and the value the target needs
// (target), or the decision to poison the instruction.
type COREFixup struct {
	kind   coreKind
	local  uint64
	target uint64
	// poison: no target matched, the instruction must not run.
	poison bool
	// skipLocalValidation: the instruction need not hold local, because
	// compilers may compute bitfield accesses differently.
	skipLocalValidation bool
	// Sizes in bytes of the field read by a load or store, local and
	// target; a load of a field whose size changed gets its width changed
	// (only for pointers and unsigned integers, see badMemSize).
	localSize, targetSize int
	badMemSize            bool
}

func (f *COREFixup) String() string {
	if f.poison {
		return fmt.Sprintf("%s=poison", f.kind)
	}
	return fmt.Sprintf("%s=%d->%d", f.kind, f.local, f.target)
}

// fieldValue is what one side of a field relocation resolves to.
type fieldValue struct {
	value    uint64
	size     int
	typ      Type
	validate bool
}

// calcField computes a field relocation's value for one spec.
func calcField(kind coreKind, spec *coreSpec, order byteOrder) (fieldValue, error) {
	last := spec.accesses[len(spec.accesses)-1]
	if last.name == "" {
		// An array element or the root itself.
		size, err := Sizeof(last.typ)
		if err != nil {
			return fieldValue{}, err
		}
		switch kind {
		case coreFieldByteOffset:
			return fieldValue{value: spec.bitOffset / 8, size: size, typ: last.typ, validate: true}, nil
		case coreFieldByteSize:
			return fieldValue{value: uint64(size), validate: true}, nil
		}
		return fieldValue{}, fmt.Errorf("%s cannot apply to an array access", kind)
	}

	members, _ := compositeMembers(last.typ)
	m := members[last.index]
	fieldType := UnderlyingType(m.Type)
	bitOff := spec.bitOffset
	bitSize := uint64(m.BitfieldSize)
	bitfield := bitSize > 0
	var byteOff, byteSize uint64
	if bitfield {
		var sz uint32
		switch fieldType.(type) {
		case *Int, *Enum:
			sz = fieldType.(sized).size()
		default:
			return fieldValue{}, fmt.Errorf("bitfield %s of %s", m.Name, fieldType)
		}
		if sz == 0 {
			return fieldValue{}, fmt.Errorf("bitfield %s has size 0", m.Name)
		}
		// The smallest naturally aligned load that covers the bitfield.
		byteSize = uint64(sz)
		byteOff = bitOff / 8 / byteSize * byteSize
		for bitOff+bitSize-byteOff*8 > byteSize*8 {
			if byteSize >= 8 {
				return fieldValue{}, fmt.Errorf("bitfield %s cannot be read with a 64-bit load", m.Name)
			}
			byteSize *= 2
			byteOff = bitOff / 8 / byteSize * byteSize
		}
	} else {
		sz, err := Sizeof(fieldType)
		if err != nil {
			return fieldValue{}, err
		}
		byteSize = uint64(sz)
		byteOff = bitOff / 8
		bitSize = byteSize * 8
	}

	fv := fieldValue{validate: !bitfield}
	switch kind {
	case coreFieldByteOffset:
		fv.value = byteOff
		if !bitfield {
			fv.size, fv.typ = int(byteSize), fieldType
		}
	case coreFieldByteSize:
		fv.value = byteSize
	case coreFieldSigned:
		switch v := fieldType.(type) {
		case *Enum:
			fv.value = b2u(v.Signed)
		case *Int:
			fv.value = b2u(v.Encoding == Signed)
		}
		fv.validate = true
	case coreFieldLshiftU64:
		if order.big {
			fv.value = (8-byteSize)*8 + (bitOff - byteOff*8)
		} else {
			fv.value = 64 - (bitOff + bitSize - byteOff*8)
		}
	case coreFieldRshiftU64:
		fv.value = 64 - bitSize
		fv.validate = true
	default:
		return fieldValue{}, fmt.Errorf("unsupported field relocation %s", kind)
	}
	return fv, nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// calcRelocation computes the fixup for a relocation whose local spec is
// local and whose matching target spec is target (nil if none matched).
func calcRelocation(kind coreKind, local, target *coreSpec, order byteOrder) (COREFixup, error) {
	fix := COREFixup{kind: kind}
	switch {
	case kind == coreFieldExists:
		fix.local = 1
		fix.target = b2u(target != nil)
		return fix, nil

	case kind.fieldBased():
		lv, err := calcField(kind, local, order)
		if err != nil {
			return fix, fmt.Errorf("local: %w", err)
		}
		fix.local, fix.skipLocalValidation, fix.localSize = lv.value, !lv.validate, lv.size
		if target == nil {
			fix.poison = true
			return fix, nil
		}
		tv, err := calcField(kind, target, order)
		if err != nil {
			return fix, fmt.Errorf("target: %w", err)
		}
		fix.target, fix.targetSize = tv.value, tv.size
		if lv.size != tv.size {
			fix.badMemSize = !memSizeAdjustable(lv.typ, tv.typ)
		}
		return fix, nil

	case kind.typeBased():
		switch kind {
		case coreTypeExists, coreTypeMatches:
			fix.local = 1
			fix.target = b2u(target != nil)
		case coreTypeSize:
			size, err := Sizeof(local.root)
			if err != nil {
				return fix, fmt.Errorf("local: %w", err)
			}
			fix.local = uint64(size)
			if target != nil {
				if size, err = Sizeof(target.root); err != nil {
					return fix, fmt.Errorf("target: %w", err)
				}
				fix.target = uint64(size)
			}
		case coreTypeIdTarget:
			fix.local = uint64(local.rootID)
			if target != nil {
				fix.target = uint64(target.rootID)
			}
			// The local ID in the instruction may be stale after linking.
			fix.skipLocalValidation = true
		default:
			return fix, fmt.Errorf("unsupported type relocation %s", kind)
		}
		return fix, nil

	case kind.enumBased():
		lv := local.accesses[0]
		fix.local = lv.typ.(*Enum).Values[lv.index].Value
		if kind == coreEnumvalExists {
			fix.local = 1
			fix.target = b2u(target != nil)
			return fix, nil
		}
		if target == nil {
			fix.poison = true
			return fix, nil
		}
		tv := target.accesses[0]
		fix.target = tv.typ.(*Enum).Values[tv.index].Value
		return fix, nil
	}
	return fix, fmt.Errorf("unsupported relocation kind %s", kind)
}

// memSizeAdjustable reports whether a load of a field whose size changed
// from local to target may simply change width: for pointers (a 32-bit
// kernel's pointers read zero-extended) and unsigned integers.
func memSizeAdjustable(local, target Type) bool {
	if _, ok := local.(*Pointer); ok {
		_, ok := target.(*Pointer)
		return ok
	}
	l, ok1 := local.(*Int)
	t, ok2 := target.(*Int)
	return ok1 && ok2 && l.Encoding != Signed && t.Encoding != Signed
}

// poisonInstruction replaces ins by a call of COREBadRelocationSentinel,
// keeping its metadata (and so its relocation record).
func poisonInstruction(ins *asm.Instruction) {
	meta := ins.Metadata
	*ins = asm.BuiltinFunc(COREBadRelocationSentinel).Call()
	ins.Metadata = meta
}

// Apply rewrites ins: the immediate of an ALU instruction or a 64-bit
// immediate load, or the offset (and if needed the width) of a load or
// store. A poisoned fixup turns ins into a call of the non-existent helper
// COREBadRelocationSentinel and keeps its metadata, so that the relocation
// record remains available to explain a verifier error.
//
// It returns an error if ins does not hold the value the compiler was
// expected to put there, or if the new value does not fit.
func (f *COREFixup) Apply(ins *asm.Instruction) error {
	if f.poison {
		poisonInstruction(ins)
		return nil
	}
	class := ins.OpCode.Class()
	switch {
	case class.IsALU():
		if ins.OpCode.Source() != asm.ImmSource {
			return fmt.Errorf("%s: ALU instruction with register source", f)
		}
		if !f.skipLocalValidation && uint64(ins.Constant) != f.local && uint64(uint32(ins.Constant)) != f.local {
			return fmt.Errorf("%s: instruction has immediate %d, want %d", f, ins.Constant, f.local)
		}
		if f.target > math.MaxUint32 {
			return fmt.Errorf("%s: value %d does not fit a 32-bit immediate", f, f.target)
		}
		ins.Constant = int64(int32(uint32(f.target)))

	case class == asm.LdXClass || class == asm.StClass || class == asm.StXClass:
		if !f.skipLocalValidation && uint64(int64(ins.Offset)) != f.local {
			return fmt.Errorf("%s: instruction has offset %d, want %d", f, ins.Offset, f.local)
		}
		if f.target > math.MaxInt16 {
			return fmt.Errorf("%s: offset %d does not fit 16 bits", f, f.target)
		}
		if f.badMemSize {
			// A load of a different width would read a different value.
			poisonInstruction(ins)
			return nil
		}
		if f.localSize != f.targetSize {
			if got := ins.OpCode.Size().Sizeof(); got != f.localSize {
				return fmt.Errorf("%s: instruction accesses %d bytes, want %d", f, got, f.localSize)
			}
			size, ok := sizeOfBytes(f.targetSize)
			if !ok {
				return fmt.Errorf("%s: no load of %d bytes", f, f.targetSize)
			}
			ins.OpCode = ins.OpCode.SetSize(size)
		}
		ins.Offset = int16(f.target)

	case ins.IsConstantLoad(asm.DWord):
		if !f.skipLocalValidation && uint64(ins.Constant) != f.local {
			return fmt.Errorf("%s: instruction loads %d, want %d", f, ins.Constant, f.local)
		}
		ins.Constant = int64(f.target)

	default:
		return fmt.Errorf("%s: cannot apply to %v", f, ins)
	}
	return nil
}

func sizeOfBytes(n int) (asm.Size, bool) {
	switch n {
	case 1:
		return asm.Byte, true
	case 2:
		return asm.Half, true
	case 4:
		return asm.Word, true
	case 8:
		return asm.DWord, true
	}
	return 0, false
}
