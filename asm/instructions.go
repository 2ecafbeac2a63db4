package asm

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
)

// Instructions is a program or function: a sequence of decoded instructions.
type Instructions []Instruction

// Name returns the symbol of the first instruction, which names the function
// the instructions belong to, or "".
func (insns Instructions) Name() string {
	if len(insns) == 0 {
		return ""
	}
	return insns[0].Symbol()
}

// Size returns the number of bytes insns occupy when marshaled.
func (insns Instructions) Size() uint64 {
	var n uint64
	for i := range insns {
		n += insns[i].Size()
	}
	return n
}

// AssociateMap makes every map load that references symbol load m instead
// (see Instruction.AssociateMap). It returns ErrUnreferencedSymbol if no
// instruction references symbol, and an error if one that does is not a map
// load.
func (insns Instructions) AssociateMap(symbol string, m FDer) error {
	if symbol == "" {
		return errors.New("associate map: empty symbol")
	}
	found := false
	for i := range insns {
		ins := &insns[i]
		if ins.Reference() != symbol {
			continue
		}
		if err := ins.AssociateMap(m); err != nil {
			return fmt.Errorf("instruction %d: symbol %q: %w", i, symbol, err)
		}
		found = true
	}
	if !found {
		return fmt.Errorf("symbol %q: %w", symbol, ErrUnreferencedSymbol)
	}
	return nil
}

// SymbolOffsets returns the index in insns of every symbol. It fails if a
// symbol appears twice.
func (insns Instructions) SymbolOffsets() (map[string]int, error) {
	offsets := make(map[string]int)
	for i := range insns {
		sym := insns[i].Symbol()
		if sym == "" {
			continue
		}
		if j, dup := offsets[sym]; dup {
			return nil, fmt.Errorf("duplicate symbol %q at instructions %d and %d", sym, j, i)
		}
		offsets[sym] = i
	}
	return offsets, nil
}

// ReferenceOffsets returns, for every referenced name, the indexes of the
// instructions that reference it, in ascending order.
func (insns Instructions) ReferenceOffsets() map[string][]int {
	offsets := make(map[string][]int)
	for i := range insns {
		if ref := insns[i].Reference(); ref != "" {
			offsets[ref] = append(offsets[ref], i)
		}
	}
	return offsets
}

// FunctionReferences returns the sorted names of the functions insns call
// or take the address of and that are still unresolved (Constant -1).
func (insns Instructions) FunctionReferences() []string {
	var refs []string
	for i := range insns {
		ins := &insns[i]
		if ins.Constant != -1 || !ins.IsFunctionReference() {
			continue
		}
		if ref := ins.Reference(); ref != "" {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	return slices.Compact(refs)
}

// Iterate returns an iterator over insns that also tracks raw instruction
// offsets. Changing the slice while iterating is undefined.
func (insns Instructions) Iterate() *InstructionIterator {
	return &InstructionIterator{insns: insns}
}

// InstructionIterator walks Instructions, see Instructions.Iterate.
type InstructionIterator struct {
	insns Instructions
	// Ins points at the current instruction inside the slice, so changes
	// through it stick.
	Ins *Instruction
	// Index is the position of Ins in the slice.
	Index int
	// Offset is the position of Ins in raw instructions, counting ldimm64
	// as two.
	Offset RawInstructionOffset
}

// Next advances to the next instruction and reports whether there was one.
func (iter *InstructionIterator) Next() bool {
	if iter.Ins != nil {
		iter.Index++
		iter.Offset += iter.Ins.Width()
	}
	if iter.Index >= len(iter.insns) {
		iter.Ins = nil
		iter.Index = len(iter.insns)
		return false
	}
	iter.Ins = &iter.insns[iter.Index]
	return true
}

// Marshal resolves references and writes the program in the byte order bo.
//
// Jumps and calls whose target is still unresolved (Offset or Constant -1)
// and that reference a symbol get the distance to it; map loads with an
// associated map get its fd. Both are written into insns. It returns
// ErrUnsatisfiedProgramReference for a reference to a symbol that is not in
// insns. Encoding allocates nothing per instruction.
func (insns Instructions) Marshal(w io.Writer, bo binary.ByteOrder) error {
	if err := insns.encodeFunctionReferences(); err != nil {
		return err
	}
	if err := insns.encodeMapPointers(); err != nil {
		return err
	}
	return insns.marshalTo(w, bo, false)
}

// encodeFunctionReferences points unresolved jumps, calls and function
// address loads at the symbols they reference.
func (insns Instructions) encodeFunctionReferences() error {
	symbols := make(map[string]RawInstructionOffset)
	iter := insns.Iterate()
	for iter.Next() {
		sym := iter.Ins.Symbol()
		if sym == "" {
			continue
		}
		if _, dup := symbols[sym]; dup {
			return fmt.Errorf("instruction %d: duplicate symbol %q", iter.Index, sym)
		}
		symbols[sym] = iter.Offset
	}

	iter = insns.Iterate()
	for iter.Next() {
		ins := iter.Ins
		ref := ins.Reference()
		if ref == "" {
			continue
		}
		byConstant := (ins.IsFunctionReference() || ins.OpCode == opGotol) && ins.Constant == -1
		byOffset := !byConstant && ins.OpCode.Class().IsJump() && ins.Offset == -1
		if !byConstant && !byOffset {
			continue
		}
		target, ok := symbols[ref]
		if !ok {
			return fmt.Errorf("instruction %d (%v): symbol %q: %w", iter.Index, ins.OpCode, ref, ErrUnsatisfiedProgramReference)
		}
		delta := int64(target) - int64(iter.Offset) - 1
		if byConstant {
			ins.Constant = delta
			continue
		}
		if delta < -1<<15 || delta >= 1<<15 {
			return fmt.Errorf("instruction %d (%v): jump to %q: distance %d does not fit 16 bits", iter.Index, ins.OpCode, ref, delta)
		}
		ins.Offset = int16(delta)
	}
	return nil
}

// encodeMapPointers writes the fds of associated maps into their loads.
func (insns Instructions) encodeMapPointers() error {
	for i := range insns {
		ins := &insns[i]
		if !ins.IsLoadFromMap() {
			continue
		}
		m := ins.Map()
		if m == nil {
			continue
		}
		fd := m.FD()
		if fd < 0 {
			return fmt.Errorf("instruction %d: map %v: closed file descriptor", i, m)
		}
		ins.encodeMapFD(fd)
	}
	return nil
}

// Tag returns the program tag of insns as kernels up to 6.17 compute it:
// the first 8 bytes of the SHA-1 of the instructions, with the fds of map
// loads zeroed, in hex. Linux 6.18 switched the tag to SHA-256; HasTag
// accepts both. insns is not modified.
//
// Deprecated: Use HasTag, which matches the tags of all kernels.
func (insns Instructions) Tag(bo binary.ByteOrder) (string, error) {
	return insns.tag(sha1.New(), bo)
}

// HasTag reports whether tag, as reported by the kernel for a loaded
// program, is the tag of insns, under either the SHA-256 tag of Linux 6.18
// and later or the SHA-1 tag of earlier kernels.
func (insns Instructions) HasTag(tag string, bo binary.ByteOrder) (bool, error) {
	t256, err := insns.tag(sha256.New(), bo)
	if err != nil {
		return false, err
	}
	if t256 == tag {
		return true, nil
	}
	t1, err := insns.tag(sha1.New(), bo)
	if err != nil {
		return false, err
	}
	return t1 == tag, nil
}

// tag mirrors the kernel's bpf_prog_calc_tag: it hashes the instructions
// with the immediates of PseudoMapFD and PseudoMapValue loads zeroed (both
// halves), since they hold fds that differ between loads.
func (insns Instructions) tag(h hash.Hash, bo binary.ByteOrder) (string, error) {
	if err := insns.marshalTo(h, bo, true); err != nil {
		return "", err
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:_BPF_TAG_SIZE]), nil
}
