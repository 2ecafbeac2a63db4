package asm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/bpfkit/ebpf/internal"
)

// This file converts between Instruction and the kernel's struct bpf_insn:
//
//	byte 0     opcode
//	byte 1     dst_reg:4, src_reg:4 (bitfield order follows the byte order:
//	           dst in the low nibble on little endian, the high on big)
//	bytes 2-3  off (s16)
//	bytes 4-7  imm (s32)
//
// ldimm64 is followed by a second slot whose only non-zero field is imm, the
// upper half of the constant. Decoding then encoding any stream the decoder
// accepts reproduces it bit for bit; the fuzz target checks that.

const (
	platformLinux = "linux"
	// reservedPlatformBits are the bits cilium/ebpf uses to tag helper
	// numbers of other platforms; BuiltinFuncForPlatform refuses them.
	reservedPlatformBits = 0xf000_0000
)

// maxReserve caps the instructions AppendInstructions reserves before
// reading: the kernel's limit on the length of a program (1M instructions).
const maxReserve = 1 << 20

var errNilByteOrder = errors.New("nil byte order")

// littleEndian reports how bo lays out registers and numbers. Besides
// binary.LittleEndian and binary.BigEndian it accepts any ByteOrder (such as
// binary.NativeEndian) by asking it to decode a known value.
func littleEndian(bo binary.ByteOrder) (bool, error) {
	switch bo {
	case binary.LittleEndian:
		return true, nil
	case binary.BigEndian:
		return false, nil
	case nil:
		return false, errNilByteOrder
	}
	switch bo.Uint16(byteOrderProbe[:]) {
	case 0x0001:
		return true, nil
	case 0x0100:
		return false, nil
	}
	return false, fmt.Errorf("unsupported byte order %v", bo)
}

var byteOrderProbe = [2]byte{1, 0}

func checkPlatform(platform string) error {
	if platform == platformLinux || platform == "" {
		return nil
	}
	return fmt.Errorf("platform %q: %w", platform, internal.ErrNotSupported)
}

var (
	errShortDWord   = errors.New("64-bit immediate load is missing its second half")
	errDWordFields  = errors.New("64-bit immediate load: second half has non-zero opcode, registers or offset")
	errAtomicImm    = errors.New("unknown atomic operation")
	errShortInsn    = errors.New("truncated instruction")
	errInvalidOp    = errors.New("invalid opcode")
	errBadRegister  = errors.New("register out of range")
	errWideConstant = errors.New("constant does not fit the 32-bit immediate")
)

// decode fills ins from raw, which holds one slot, or two if the first is
// ldimm64 (the caller checks with isWide). Metadata is left alone.
func (ins *Instruction) decode(raw []byte, le bool) error {
	_ = raw[7]
	code := raw[0]
	var off uint16
	var imm uint32
	if le {
		ins.Dst, ins.Src = Register(raw[1]&0xf), Register(raw[1]>>4)
		off = binary.LittleEndian.Uint16(raw[2:4])
		imm = binary.LittleEndian.Uint32(raw[4:8])
	} else {
		ins.Dst, ins.Src = Register(raw[1]>>4), Register(raw[1]&0xf)
		off = binary.BigEndian.Uint16(raw[2:4])
		imm = binary.BigEndian.Uint32(raw[4:8])
	}
	op := OpCode(code)
	ins.Offset = int16(off)
	ins.Constant = int64(int32(imm))

	switch Class(code & 7) {
	case ALUClass, ALU64Class:
		// Fold the offsets that select v4 variants into the operation.
		switch code & 0xf0 {
		case _BPF_DIV, _BPF_MOD:
			if off == offSigned {
				op |= offSigned << aluExtShift
				ins.Offset = 0
			}
		case _BPF_MOV:
			if off == offSX8 || off == offSX16 || off == offSX32 {
				op |= OpCode(off) << aluExtShift
				ins.Offset = 0
			}
		}
	case StXClass:
		if Mode(code&0xe0) == AtomicMode {
			if imm > uint32(atomicMask>>atomicShift) {
				return fmt.Errorf("%w %#x", errAtomicImm, imm)
			}
			op |= OpCode(imm) << atomicShift
			ins.Constant = 0
		}
	case LdClass:
		if op == opLdImmDW {
			if len(raw) < 2*InstructionSize {
				return errShortDWord
			}
			hi := raw[InstructionSize:]
			if hi[0] != 0 || hi[1] != 0 || hi[2] != 0 || hi[3] != 0 {
				return errDWordFields
			}
			var upper uint32
			if le {
				upper = binary.LittleEndian.Uint32(hi[4:8])
			} else {
				upper = binary.BigEndian.Uint32(hi[4:8])
			}
			ins.Constant = int64(uint64(upper)<<32 | uint64(imm))
		}
	}
	ins.OpCode = op
	return nil
}

// isWide reports whether the raw slot starting with code is the first half
// of a ldimm64.
func isWide(code byte) bool { return OpCode(code) == opLdImmDW }

// encode writes ins to b, which has room for two slots, and returns the
// number of bytes written.
func (ins *Instruction) encode(b []byte, le bool) (int, error) {
	_ = b[2*InstructionSize-1]
	op := ins.OpCode
	if op == InvalidOpCode || !op.wellFormed() {
		return 0, fmt.Errorf("%w %#x", errInvalidOp, uint32(op))
	}
	if ins.Dst > 0xf || ins.Src > 0xf {
		return 0, fmt.Errorf("%w: dst %d, src %d", errBadRegister, ins.Dst, ins.Src)
	}
	off := ins.Offset
	imm := uint32(ins.Constant)
	wide := false

	switch cls := op.Class(); {
	case cls.IsALU():
		if ext := int16(op >> aluExtShift & 0xff); ext != 0 {
			if off != 0 {
				return 0, fmt.Errorf("%v: offset must be 0, got %d", op, off)
			}
			off = ext
		}
	case cls == StXClass && op.Mode() == AtomicMode:
		atomic := uint32(op&atomicMask) >> atomicShift
		if ins.Constant != 0 && ins.Constant != int64(atomic) {
			return 0, fmt.Errorf("%v: constant %d conflicts with the atomic operation", op, ins.Constant)
		}
		imm = atomic
	case op == opLdImmDW:
		wide = true
	}
	if !wide && (ins.Constant < math.MinInt32 || ins.Constant > math.MaxUint32) {
		return 0, fmt.Errorf("%v: %w: %d", op, errWideConstant, ins.Constant)
	}

	b[0] = byte(op)
	if le {
		b[1] = byte(ins.Src)<<4 | byte(ins.Dst)
		binary.LittleEndian.PutUint16(b[2:4], uint16(off))
		binary.LittleEndian.PutUint32(b[4:8], imm)
	} else {
		b[1] = byte(ins.Dst)<<4 | byte(ins.Src)
		binary.BigEndian.PutUint16(b[2:4], uint16(off))
		binary.BigEndian.PutUint32(b[4:8], imm)
	}
	if !wide {
		return InstructionSize, nil
	}
	hi := b[InstructionSize : 2*InstructionSize]
	hi[0], hi[1], hi[2], hi[3] = 0, 0, 0, 0
	if le {
		binary.LittleEndian.PutUint32(hi[4:8], uint32(uint64(ins.Constant)>>32))
	} else {
		binary.BigEndian.PutUint32(hi[4:8], uint32(uint64(ins.Constant)>>32))
	}
	return 2 * InstructionSize, nil
}

// slotPool holds the two-slot buffers of single-instruction Marshal and
// Unmarshal, which would otherwise escape to the heap through the
// io.Reader and io.Writer calls.
var slotPool = sync.Pool{New: func() any { return new([2 * InstructionSize]byte) }}

// Unmarshal decodes one instruction, reading 8 bytes from r, or 16 for a
// 64-bit immediate load. platform must be "linux" (or ""). It returns io.EOF
// only if r had no bytes at all. It does not allocate.
func (ins *Instruction) Unmarshal(r io.Reader, bo binary.ByteOrder, platform string) error {
	le, err := littleEndian(bo)
	if err != nil {
		return err
	}
	if err := checkPlatform(platform); err != nil {
		return err
	}
	buf := slotPool.Get().(*[2 * InstructionSize]byte)
	defer slotPool.Put(buf)
	if _, err := io.ReadFull(r, buf[:InstructionSize]); err != nil {
		return err
	}
	raw := buf[:InstructionSize]
	if isWide(buf[0]) {
		if _, err := io.ReadFull(r, buf[InstructionSize:]); err != nil {
			return errShortDWord
		}
		raw = buf[:]
	}
	return ins.decode(raw, le)
}

// Marshal encodes ins in the byte order bo and writes it to w. It returns
// the number of bytes written: 8, or 16 for a 64-bit immediate load. It does
// not allocate.
func (ins Instruction) Marshal(w io.Writer, bo binary.ByteOrder) (uint64, error) {
	le, err := littleEndian(bo)
	if err != nil {
		return 0, err
	}
	buf := slotPool.Get().(*[2 * InstructionSize]byte)
	defer slotPool.Put(buf)
	n, err := ins.encode(buf[:], le)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(buf[:n]); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// AppendInstructions decodes instructions from r until io.EOF and appends
// them to insns. A stream that ends inside an instruction is an error.
// Errors name the byte offset of the instruction.
//
// When r reports the bytes it holds (bytes.Reader, strings.Reader) the
// result is allocated once, and a reader that implements io.WriterTo (such
// as bytes.Reader) is decoded in place without copying. No allocation
// happens per instruction.
func AppendInstructions(insns Instructions, r io.Reader, bo binary.ByteOrder, platform string) (Instructions, error) {
	le, err := littleEndian(bo)
	if err != nil {
		return nil, err
	}
	if err := checkPlatform(platform); err != nil {
		return nil, err
	}
	if l, ok := r.(interface{ Len() int }); ok {
		// Len counts bytes that exist, so the reservation is bounded by the
		// input (ldimm64 makes it an overestimate). A reader that claims
		// more than a program can hold gets no more up front: append grows
		// as data actually arrives.
		n := min(l.Len()/InstructionSize, maxReserve)
		if n > cap(insns)-len(insns) {
			grown := make(Instructions, len(insns), len(insns)+n)
			copy(grown, insns)
			insns = grown
		}
	}

	d := decoderPool.Get().(*streamDecoder)
	*d = streamDecoder{insns: insns, le: le}
	defer func() {
		*d = streamDecoder{}
		decoderPool.Put(d)
	}()
	if wt, ok := r.(io.WriterTo); ok {
		_, err = wt.WriteTo(d)
	} else {
		buf := chunkPool.Get().(*[chunkSize]byte)
		_, err = io.CopyBuffer(writerOnly{d}, readerOnly{r}, buf[:])
		chunkPool.Put(buf)
	}
	if d.err != nil {
		return nil, d.err
	}
	if err != nil {
		return nil, fmt.Errorf("offset %d: %w", d.offset, err)
	}
	if d.npending > 0 {
		if isWide(d.pending[0]) && d.npending >= InstructionSize {
			return nil, fmt.Errorf("offset %d: %w", d.offset, errShortDWord)
		}
		return nil, fmt.Errorf("offset %d: %w (%d trailing bytes)", d.offset, errShortInsn, d.npending)
	}
	return d.insns, nil
}

// decoderPool recycles streamDecoders, which escape through io.WriterTo.
var decoderPool = sync.Pool{New: func() any { return new(streamDecoder) }}

// streamDecoder is an io.Writer that decodes what is written to it.
type streamDecoder struct {
	insns    Instructions
	le       bool
	offset   uint64 // byte offset of the next instruction
	pending  [2 * InstructionSize]byte
	npending int
	err      error
}

func (d *streamDecoder) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n := len(p)
	// Complete an instruction split across writes.
	for d.npending > 0 && len(p) > 0 {
		need := InstructionSize
		if isWide(d.pending[0]) {
			need = 2 * InstructionSize
		}
		c := copy(d.pending[d.npending:need], p)
		d.npending += c
		p = p[c:]
		if d.npending < need {
			break
		}
		if !d.emit(d.pending[:need]) {
			return 0, d.err
		}
		d.npending = 0
	}
	for len(p) >= InstructionSize {
		need := InstructionSize
		if isWide(p[0]) {
			need = 2 * InstructionSize
			if len(p) < need {
				break
			}
		}
		if !d.emit(p[:need]) {
			return 0, d.err
		}
		p = p[need:]
	}
	d.npending += copy(d.pending[d.npending:], p)
	return n, nil
}

func (d *streamDecoder) emit(raw []byte) bool {
	d.insns = append(d.insns, Instruction{})
	if err := d.insns[len(d.insns)-1].decode(raw, d.le); err != nil {
		d.err = fmt.Errorf("offset %d: %w", d.offset, err)
		return false
	}
	d.offset += uint64(len(raw))
	return true
}

// writerOnly and readerOnly hide ReadFrom/WriteTo so that io.CopyBuffer
// uses the buffer it is given.
type (
	writerOnly struct{ io.Writer }
	readerOnly struct{ io.Reader }
)

const chunkSize = 4096

var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// marshalTo encodes insns without resolving references and writes them to w
// in chunks. zeroMaps clears the immediates of map loads, for the tag.
func (insns Instructions) marshalTo(w io.Writer, bo binary.ByteOrder, zeroMaps bool) error {
	le, err := littleEndian(bo)
	if err != nil {
		return err
	}
	buf := chunkPool.Get().(*[chunkSize]byte)
	defer chunkPool.Put(buf)
	n := 0
	for i := range insns {
		if n > chunkSize-2*InstructionSize {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			n = 0
		}
		ins := &insns[i]
		if zeroMaps && ins.IsLoadFromMap() {
			c := *ins
			c.Constant = 0
			ins = &c
		}
		m, err := ins.encode(buf[n:], le)
		if err != nil {
			return fmt.Errorf("instruction %d: %w", i, err)
		}
		n += m
	}
	if n > 0 {
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
	}
	return nil
}
