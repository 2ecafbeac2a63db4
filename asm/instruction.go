package asm

import (
	"errors"
	"fmt"
)

// InstructionSize is the size of one raw eBPF instruction in bytes. The
// 64-bit immediate load takes two.
const InstructionSize = 8

// RawInstructionOffset is a position in a program counted in raw 8-byte
// instructions, the unit of jump offsets and of the kernel's line info.
type RawInstructionOffset uint64

// Bytes returns the offset in bytes.
func (rio RawInstructionOffset) Bytes() uint64 { return uint64(rio) * InstructionSize }

var (
	// ErrUnreferencedSymbol is returned by Instructions.AssociateMap when no
	// instruction references the symbol.
	ErrUnreferencedSymbol = errors.New("unreferenced symbol")
	// ErrUnsatisfiedMapReference means an instruction references a map that
	// was not provided.
	ErrUnsatisfiedMapReference = errors.New("unsatisfied map reference")
	// ErrUnsatisfiedProgramReference means an instruction references a
	// symbol (jump target, function) that is not in the program.
	ErrUnsatisfiedProgramReference = errors.New("unsatisfied program reference")
)

// Instruction is one eBPF instruction, decoded. A 64-bit immediate load is
// one Instruction with the full value in Constant even though it occupies
// two raw slots.
//
// Instructions are values: copy them freely. Metadata is shared between
// copies until one of them changes it (see Metadata).
type Instruction struct {
	OpCode   OpCode
	Dst      Register
	Src      Register
	Offset   int16
	Constant int64

	// Metadata holds the symbol, reference, source line, map and other
	// annotations of the instruction.
	Metadata Metadata
}

// Width returns the number of raw instructions ins occupies: 2 for ldimm64,
// otherwise 1.
func (ins *Instruction) Width() RawInstructionOffset {
	return RawInstructionOffset(ins.OpCode.rawInstructions())
}

// Size returns the number of bytes ins occupies when marshaled.
func (ins Instruction) Size() uint64 {
	return uint64(InstructionSize * ins.OpCode.rawInstructions())
}

// WithMetadata returns ins with its metadata replaced by meta, e.g. to keep
// the annotations of an instruction that is being replaced.
func (ins Instruction) WithMetadata(meta Metadata) Instruction {
	ins.Metadata = meta
	return ins
}

type (
	symbolMeta    struct{}
	referenceMeta struct{}
	mapMeta       struct{}
	sourceMeta    struct{}
)

// WithSymbol returns ins marked as the symbol name: the start of a function
// or a jump target that other instructions reference with WithReference.
func (ins Instruction) WithSymbol(name string) Instruction {
	ins.Metadata.Set(symbolMeta{}, optionalString(name))
	return ins
}

// Symbol returns the symbol ins is marked with, or "".
func (ins Instruction) Symbol() string {
	s, _ := ins.Metadata.Get(symbolMeta{}).(string)
	return s
}

// WithReference returns ins referencing the symbol or map name: Marshal
// turns a reference of a jump or call into an offset, and the loader turns
// a reference of a map load into the map's fd.
func (ins Instruction) WithReference(ref string) Instruction {
	ins.Metadata.Set(referenceMeta{}, optionalString(ref))
	return ins
}

// Reference returns the symbol or map name ins references, or "".
func (ins Instruction) Reference() string {
	s, _ := ins.Metadata.Get(referenceMeta{}).(string)
	return s
}

// optionalString stores "" as no value, so clearing a name frees its entry.
func optionalString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Map returns the map associated with ins by AssociateMap, or nil.
func (ins Instruction) Map() FDer {
	m, _ := ins.Metadata.Get(mapMeta{}).(FDer)
	return m
}

// WithSource returns ins annotated with src, usually the source line the
// compiler's BTF line info attributes to it (btf.Line), or a Comment.
// Format prints it above the instruction.
func (ins Instruction) WithSource(src fmt.Stringer) Instruction {
	if src == nil {
		ins.Metadata.Set(sourceMeta{}, nil)
	} else {
		ins.Metadata.Set(sourceMeta{}, src)
	}
	return ins
}

// Source returns the annotation set by WithSource, or nil.
func (ins Instruction) Source() fmt.Stringer {
	s, _ := ins.Metadata.Get(sourceMeta{}).(fmt.Stringer)
	return s
}

// Comment is a fmt.Stringer for Instruction.WithSource: a free-form note
// printed above the instruction.
type Comment string

// String returns the comment.
func (s Comment) String() string { return string(s) }

// FDer is anything backed by a file descriptor, such as *ebpf.Map, which asm
// cannot import.
type FDer interface {
	FD() int
}

// IsLoadFromMap reports whether ins loads a map's address or the address of
// a map's value by fd (PseudoMapFD, PseudoMapValue).
func (ins *Instruction) IsLoadFromMap() bool {
	return ins.OpCode == opLdImmDW && (ins.Src == PseudoMapFD || ins.Src == PseudoMapValue)
}

// IsFunctionCall reports whether ins is a bpf-to-bpf call. Helper calls are
// not.
func (ins *Instruction) IsFunctionCall() bool {
	return ins.OpCode.JumpOp() == Call && ins.Src == PseudoCall
}

// IsKfuncCall reports whether ins calls a kernel function by BTF id.
func (ins *Instruction) IsKfuncCall() bool {
	return ins.OpCode.JumpOp() == Call && ins.Src == PseudoKfuncCall
}

// IsLoadOfFunctionPointer reports whether ins loads the address of a BPF
// function (PseudoFunc), as callbacks do.
func (ins *Instruction) IsLoadOfFunctionPointer() bool {
	return ins.OpCode.IsDWordLoad() && ins.Src == PseudoFunc
}

// IsFunctionReference reports whether ins refers to another BPF function, by
// calling it or loading its address.
func (ins *Instruction) IsFunctionReference() bool {
	return ins.IsFunctionCall() || ins.IsLoadOfFunctionPointer()
}

// IsBuiltinCall reports whether ins calls a helper (a BuiltinFunc).
func (ins *Instruction) IsBuiltinCall() bool {
	return ins.OpCode == opCall && ins.Src == R0 && ins.Dst == R0
}

// IsConstantLoad reports whether ins loads a plain constant of the given
// size (no pseudo source).
func (ins *Instruction) IsConstantLoad(size Size) bool {
	return ins.OpCode == LoadImmOp(size) && ins.Src == R0 && ins.Offset == 0
}

// AssociateMap makes ins, a map load, load m: Marshal will write m's fd.
// It drops the reference by name. It returns an error if ins is not a map
// load.
func (ins *Instruction) AssociateMap(m FDer) error {
	if !ins.IsLoadFromMap() {
		return fmt.Errorf("%v is not a load from a map", ins.OpCode)
	}
	ins.Metadata.Set(referenceMeta{}, nil)
	ins.Metadata.Set(mapMeta{}, m)
	return nil
}

// RewriteMapOffset sets the offset into the map value that a PseudoMapValue
// load points to.
func (ins *Instruction) RewriteMapOffset(offset uint32) error {
	if !ins.OpCode.IsDWordLoad() {
		return fmt.Errorf("%v is not a 64-bit immediate load", ins.OpCode)
	}
	if ins.Src != PseudoMapValue {
		return errors.New("not a direct load from a map value")
	}
	ins.Constant = int64(uint64(offset)<<32 | uint64(uint32(ins.Constant)))
	return nil
}

// RewriteMapPtr sets the map file descriptor of a map load (PseudoMapFD or
// PseudoMapValue), keeping a value load's offset. It is how a loader that
// manages fds itself points a load at a map without AssociateMap. An
// addition to cilium/ebpf v0.22's API (older releases had it).
func (ins *Instruction) RewriteMapPtr(fd int) error {
	if !ins.IsLoadFromMap() {
		return fmt.Errorf("%v is not a load from a map", ins.OpCode)
	}
	if fd < 0 {
		return fmt.Errorf("map fd %d is negative", fd)
	}
	ins.encodeMapFD(fd)
	return nil
}

// encodeMapFD puts fd in the low half of Constant, keeping the value offset
// of a PseudoMapValue load.
func (ins *Instruction) encodeMapFD(fd int) {
	ins.Constant = int64(uint64(ins.Constant)&^0xffff_ffff | uint64(uint32(fd)))
}

// mapFd is the fd held in the low half of Constant.
func (ins *Instruction) mapFd() int { return int(int32(ins.Constant)) }

// mapOffset is the map value offset held in the high half of Constant.
func (ins *Instruction) mapOffset() uint32 { return uint32(uint64(ins.Constant) >> 32) }

// equal compares the encoding fields, ignoring metadata.
func (ins Instruction) equal(other Instruction) bool {
	return ins.OpCode == other.OpCode && ins.Dst == other.Dst && ins.Src == other.Src &&
		ins.Offset == other.Offset && ins.Constant == other.Constant
}
