package asm

import "strconv"

// Mode is the addressing mode of a load or store: opcode bits 0xe0.
type Mode uint8

// Addressing modes.
const (
	// InvalidMode is returned by OpCode.Mode for opcodes that are neither
	// loads nor stores.
	InvalidMode Mode = 0xff
	// ImmMode loads an immediate; with DWord it is the 16-byte ldimm64.
	ImmMode = Mode(_BPF_IMM)
	// AbsMode is the classic BPF packet load at a constant offset (LD_ABS).
	AbsMode = Mode(_BPF_ABS)
	// IndMode is the classic BPF packet load at a register plus constant
	// offset (LD_IND).
	IndMode = Mode(_BPF_IND)
	// MemMode accesses memory at a register plus Offset.
	MemMode = Mode(_BPF_MEM)
	// MemSXMode loads from memory and sign extends. Requires kernel 6.6
	// (cpu v4).
	MemSXMode = Mode(_BPF_MEMSX)
	// AtomicMode performs the AtomicOp held in the instruction's immediate.
	AtomicMode = Mode(_BPF_ATOMIC)
)

// String returns the constant's name.
func (m Mode) String() string {
	switch m {
	case ImmMode:
		return "ImmMode"
	case AbsMode:
		return "AbsMode"
	case IndMode:
		return "IndMode"
	case MemMode:
		return "MemMode"
	case MemSXMode:
		return "MemSXMode"
	case AtomicMode:
		return "AtomicMode"
	case InvalidMode:
		return "InvalidMode"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Size is the width of a load or store: opcode bits 0x18.
type Size uint8

// Access widths.
const (
	// InvalidSize is returned by OpCode.Size for opcodes that are neither
	// loads nor stores.
	InvalidSize Size = 0xff
	// DWord is 64 bits.
	DWord = Size(_BPF_DW)
	// Word is 32 bits.
	Word = Size(_BPF_W)
	// Half is 16 bits.
	Half = Size(_BPF_H)
	// Byte is 8 bits.
	Byte = Size(_BPF_B)
)

// Sizeof returns the width in bytes, or -1 for an unknown Size.
func (s Size) Sizeof() int {
	switch s {
	case DWord:
		return 8
	case Word:
		return 4
	case Half:
		return 2
	case Byte:
		return 1
	}
	return -1
}

// String returns the constant's name.
func (s Size) String() string {
	switch s {
	case DWord:
		return "DWord"
	case Word:
		return "Word"
	case Half:
		return "Half"
	case Byte:
		return "Byte"
	case InvalidSize:
		return "InvalidSize"
	}
	return "Size(" + strconv.Itoa(int(s)) + ")"
}

// suffix is the short name used in OpCode.String.
func (s Size) suffix() string {
	switch s {
	case DWord:
		return "DW"
	case Word:
		return "W"
	case Half:
		return "H"
	case Byte:
		return "B"
	}
	return ""
}

// AtomicOp is an atomic memory operation. Its value is the immediate the
// kernel reads from a BPF_STX | BPF_ATOMIC instruction.
type AtomicOp uint32

// Atomic operations on *(size *)(dst + offset). The fetching variants and
// Xchg, CmpXchg require kernel 5.12; AddAtomic is the old XADD and works
// everywhere. Only Word and DWord sizes exist for read-modify-write
// operations.
const (
	// InvalidAtomic is returned by OpCode.AtomicOp for other opcodes.
	InvalidAtomic AtomicOp = 0xffff_ffff

	// AddAtomic: *addr += src.
	AddAtomic = AtomicOp(_BPF_ADD)
	// FetchAdd: src = *addr; *addr += src, atomically.
	FetchAdd = AddAtomic | _BPF_FETCH
	// AndAtomic: *addr &= src.
	AndAtomic = AtomicOp(_BPF_AND)
	// FetchAnd: src = *addr; *addr &= src, atomically.
	FetchAnd = AndAtomic | _BPF_FETCH
	// OrAtomic: *addr |= src.
	OrAtomic = AtomicOp(_BPF_OR)
	// FetchOr: src = *addr; *addr |= src, atomically.
	FetchOr = OrAtomic | _BPF_FETCH
	// XorAtomic: *addr ^= src.
	XorAtomic = AtomicOp(_BPF_XOR)
	// FetchXor: src = *addr; *addr ^= src, atomically.
	FetchXor = XorAtomic | _BPF_FETCH
	// Xchg swaps src and *addr.
	Xchg = AtomicOp(_BPF_XCHG)
	// CmpXchg stores src to *addr if *addr equals R0; R0 receives the old
	// value either way.
	CmpXchg = AtomicOp(_BPF_CMPXCHG)

	// loadAcquire is dst = *(src + offset) with acquire ordering; see
	// LoadAcquire. Kernel 6.15.
	loadAcquire = AtomicOp(_BPF_LOAD_ACQ)
	// storeRelease is *(dst + offset) = src with release ordering; see
	// StoreRelease. Kernel 6.15.
	storeRelease = AtomicOp(_BPF_STORE_REL)
)

// String returns the constant's name without its Atomic suffix ("Add",
// "FetchAdd", "Xchg", ...); "LoadAcq" and "StoreRel" for the ordered
// accesses.
func (op AtomicOp) String() string {
	switch op {
	case AddAtomic:
		return "Add"
	case AndAtomic:
		return "And"
	case OrAtomic:
		return "Or"
	case XorAtomic:
		return "Xor"
	case FetchAdd:
		return "FetchAdd"
	case FetchAnd:
		return "FetchAnd"
	case FetchOr:
		return "FetchOr"
	case FetchXor:
		return "FetchXor"
	case Xchg:
		return "Xchg"
	case CmpXchg:
		return "CmpXchg"
	case loadAcquire:
		return "LoadAcq"
	case storeRelease:
		return "StoreRel"
	case InvalidAtomic:
		return "InvalidAtomic"
	}
	return "AtomicOp(" + strconv.FormatUint(uint64(op), 16) + ")"
}

// OpCode returns the opcode of op on a value of the given size, or
// InvalidOpCode for sizes the operation does not exist in (read-modify-write
// operations are Word and DWord only).
func (op AtomicOp) OpCode(size Size) OpCode {
	switch op {
	case loadAcquire, storeRelease:
	default:
		if size != Word && size != DWord {
			return InvalidOpCode
		}
	}
	return OpCode(StXClass).SetMode(AtomicMode).SetSize(size).SetAtomicOp(op)
}

// Mem emits `*(size *)(dst + offset) op= src`, atomically.
func (op AtomicOp) Mem(dst, src Register, size Size, offset int16) Instruction {
	return Instruction{OpCode: op.OpCode(size), Dst: dst, Src: src, Offset: offset}
}

// LoadAcquire emits `dst = load_acquire((size *)(src + offset))`: a load
// that no later memory access is reordered before. Requires kernel 6.15.
func LoadAcquire(dst, src Register, size Size, offset int16) Instruction {
	return Instruction{OpCode: loadAcquire.OpCode(size), Dst: dst, Src: src, Offset: offset}
}

// StoreRelease emits `store_release((size *)(dst + offset), src)`: a store
// that no earlier memory access is reordered after. Requires kernel 6.15.
func StoreRelease(dst, src Register, size Size, offset int16) Instruction {
	return Instruction{OpCode: storeRelease.OpCode(size), Dst: dst, Src: src, Offset: offset}
}

// StoreXAddOp returns the opcode of the atomic add (AddAtomic).
func StoreXAddOp(size Size) OpCode { return AddAtomic.OpCode(size) }

// StoreXAdd emits `lock *(size *)dst += src`.
func StoreXAdd(dst, src Register, size Size) Instruction {
	return AddAtomic.Mem(dst, src, size, 0)
}

// LoadMemOp returns the opcode that loads size bytes from memory.
func LoadMemOp(size Size) OpCode { return OpCode(LdXClass).SetMode(MemMode).SetSize(size) }

// LoadMemSXOp returns the opcode that loads size bytes from memory and sign
// extends them. Requires kernel 6.6 (cpu v4).
func LoadMemSXOp(size Size) OpCode { return OpCode(LdXClass).SetMode(MemSXMode).SetSize(size) }

// LoadMem emits `dst = *(size *)(src + offset)`.
func LoadMem(dst, src Register, offset int16, size Size) Instruction {
	return Instruction{OpCode: LoadMemOp(size), Dst: dst, Src: src, Offset: offset}
}

// LoadMemSX emits `dst = *(signed size *)(src + offset)`. DWord has no
// sign-extending form and gives InvalidOpCode. Requires kernel 6.6.
func LoadMemSX(dst, src Register, offset int16, size Size) Instruction {
	if size == DWord {
		return Instruction{OpCode: InvalidOpCode}
	}
	return Instruction{OpCode: LoadMemSXOp(size), Dst: dst, Src: src, Offset: offset}
}

// LoadImmOp returns the opcode of an immediate load. Only DWord (ldimm64)
// exists.
func LoadImmOp(size Size) OpCode { return OpCode(LdClass).SetMode(ImmMode).SetSize(size) }

// LoadImm emits `dst = value`. With DWord it is the 16-byte ldimm64 that
// holds a full 64-bit constant.
func LoadImm(dst Register, value int64, size Size) Instruction {
	return Instruction{OpCode: LoadImmOp(size), Dst: dst, Constant: value}
}

// LoadMapPtr emits a ldimm64 of the address of the map with file descriptor
// fd. A negative fd gives InvalidOpCode.
func LoadMapPtr(dst Register, fd int) Instruction {
	if fd < 0 {
		return Instruction{OpCode: InvalidOpCode}
	}
	return Instruction{
		OpCode:   LoadImmOp(DWord),
		Dst:      dst,
		Src:      PseudoMapFD,
		Constant: int64(uint32(fd)),
	}
}

// LoadMapValue emits a ldimm64 of the address of offset bytes into the
// value of the single-element map with file descriptor fd (global data).
// Requires kernel 5.2.
func LoadMapValue(dst Register, fd int, offset uint32) Instruction {
	if fd < 0 {
		return Instruction{OpCode: InvalidOpCode}
	}
	return Instruction{
		OpCode:   LoadImmOp(DWord),
		Dst:      dst,
		Src:      PseudoMapValue,
		Constant: int64(uint64(offset)<<32 | uint64(uint32(fd))),
	}
}

// LoadIndOp returns the opcode of the classic packet load at a register
// plus offset.
func LoadIndOp(size Size) OpCode { return OpCode(LdClass).SetMode(IndMode).SetSize(size) }

// LoadInd emits the legacy packet load `r0 = ntoh(*(size *)(skb->data + src
// + offset))`; the program's context must be in R6. dst is ignored by the
// kernel, which always writes R0.
func LoadInd(dst, src Register, offset int32, size Size) Instruction {
	return Instruction{OpCode: LoadIndOp(size), Dst: dst, Src: src, Constant: int64(offset)}
}

// LoadAbsOp returns the opcode of the classic packet load at a constant
// offset.
func LoadAbsOp(size Size) OpCode { return OpCode(LdClass).SetMode(AbsMode).SetSize(size) }

// LoadAbs emits the legacy packet load `r0 = ntoh(*(size *)(skb->data +
// offset))`; the program's context must be in R6.
func LoadAbs(offset int32, size Size) Instruction {
	return Instruction{OpCode: LoadAbsOp(size), Dst: R0, Constant: int64(offset)}
}

// StoreMemOp returns the opcode that stores a register of size bytes.
func StoreMemOp(size Size) OpCode { return OpCode(StXClass).SetMode(MemMode).SetSize(size) }

// StoreMem emits `*(size *)(dst + offset) = src`.
func StoreMem(dst Register, offset int16, src Register, size Size) Instruction {
	return Instruction{OpCode: StoreMemOp(size), Dst: dst, Src: src, Offset: offset}
}

// StoreImmOp returns the opcode that stores an immediate of size bytes.
func StoreImmOp(size Size) OpCode { return OpCode(StClass).SetMode(MemMode).SetSize(size) }

// StoreImm emits `*(size *)(dst + offset) = value`. The immediate has 32
// bits; a DWord store sign extends it.
func StoreImm(dst Register, offset int16, value int64, size Size) Instruction {
	return Instruction{OpCode: StoreImmOp(size), Dst: dst, Offset: offset, Constant: value}
}
