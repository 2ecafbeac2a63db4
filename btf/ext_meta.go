package btf

import (
	"encoding/binary"
	"fmt"

	"github.com/bpfkit/ebpf/asm"
)

// This file moves .BTF.ext records onto instructions and back. Attached as
// asm.Metadata, a record travels with its instruction through linking
// (which concatenates and reorders functions) and through the loader's
// rewrites, and is turned back into kernel records, at the instructions'
// final offsets, just before loading.

type funcInfoMeta struct{}
type coreRelocationMeta struct{}

// WithFuncMetadata returns ins annotated with fn: the function that starts
// at ins.
func WithFuncMetadata(ins asm.Instruction, fn *Func) asm.Instruction {
	if fn == nil {
		ins.Metadata.Set(funcInfoMeta{}, nil)
	} else {
		ins.Metadata.Set(funcInfoMeta{}, fn)
	}
	return ins
}

// SetFuncMetadata records fn, the function that starts at the instruction
// whose metadata b builds: WithFuncMetadata for several entries at once.
// An addition to cilium/ebpf's API.
func SetFuncMetadata(b *asm.MetadataBuilder, fn *Func) {
	if fn == nil {
		b.Set(funcInfoMeta{}, nil)
	} else {
		b.Set(funcInfoMeta{}, fn)
	}
}

// FuncMetadata returns the function that starts at ins, or nil.
func FuncMetadata(ins *asm.Instruction) *Func {
	fn, _ := ins.Metadata.Get(funcInfoMeta{}).(*Func)
	return fn
}

// WithCORERelocationMetadata returns ins annotated with relo, the CO-RE
// relocation to apply to it.
func WithCORERelocationMetadata(ins asm.Instruction, relo *CORERelocation) asm.Instruction {
	if relo == nil {
		ins.Metadata.Set(coreRelocationMeta{}, nil)
	} else {
		ins.Metadata.Set(coreRelocationMeta{}, relo)
	}
	return ins
}

// SetCORERelocationMetadata records relo, the CO-RE relocation to apply
// to the instruction whose metadata b builds: WithCORERelocationMetadata
// for several entries at once. An addition to cilium/ebpf's API.
func SetCORERelocationMetadata(b *asm.MetadataBuilder, relo *CORERelocation) {
	if relo == nil {
		b.Set(coreRelocationMeta{}, nil)
	} else {
		b.Set(coreRelocationMeta{}, relo)
	}
}

// CORERelocationMetadata returns the CO-RE relocation of ins, or nil. The
// loader keeps it on the instruction after relocating, so that a verifier
// error at a poisoned instruction can name the type and field that failed
// to relocate.
func CORERelocationMetadata(ins *asm.Instruction) *CORERelocation {
	relo, _ := ins.Metadata.Get(coreRelocationMeta{}).(*CORERelocation)
	return relo
}

// AssignMetadataToInstructions attaches the records of one ELF section to
// its instructions: functions as by WithFuncMetadata, lines as by
// asm.Instruction.WithSource and CO-RE relocations as by
// WithCORERelocationMetadata, building each instruction's metadata table
// once. Offsets count raw instructions from the start of the section, as in
// ExtInfos. Records whose offset matches no instruction are ignored.
func AssignMetadataToInstructions(insns asm.Instructions, funcs FuncOffsets, lines LineOffsets, relos CORERelocationOffsets) {
	var b asm.MetadataBuilder
	iter := insns.Iterate()
	for iter.Next() {
		off := iter.Offset
		for len(funcs) > 0 && funcs[0].Offset < off {
			funcs = funcs[1:]
		}
		for len(lines) > 0 && lines[0].Offset < off {
			lines = lines[1:]
		}
		for len(relos) > 0 && relos[0].Offset < off {
			relos = relos[1:]
		}
		hasFunc := len(funcs) > 0 && funcs[0].Offset == off
		hasLine := len(lines) > 0 && lines[0].Offset == off
		hasRelo := len(relos) > 0 && relos[0].Offset == off
		if !hasFunc && !hasLine && !hasRelo {
			continue
		}
		b.Reset(iter.Ins.Metadata)
		if hasFunc {
			SetFuncMetadata(&b, funcs[0].Func)
			funcs = funcs[1:]
		}
		// Of several lines at one offset, the last wins.
		for len(lines) > 0 && lines[0].Offset == off {
			b.SetSource(lines[0].Line)
			lines = lines[1:]
		}
		if hasRelo {
			SetCORERelocationMetadata(&b, relos[0].Relo)
			relos = relos[1:]
		}
		iter.Ins.Metadata = b.Build()
	}
}

// MarshalExtInfos encodes the function and line information attached to
// insns as the kernel's bpf_func_info and bpf_line_info arrays, in the
// host's byte order, adding functions and strings to b.
//
// An instruction whose source is not a *Line (an asm.Comment, say) gets a
// line record with the comment as its text and no file. When there is any
// line information, every function gets a line record at its first
// instruction, as the kernel demands.
func MarshalExtInfos(insns asm.Instructions, b *Builder) (funcInfos, lineInfos []byte, _ error) {
	b.init()
	hasLines := false
	for i := range insns {
		if insns[i].Source() != nil {
			hasLines = true
			break
		}
	}
	bo := binary.NativeEndian
	iter := insns.Iterate()
	for iter.Next() {
		off := uint32(iter.Offset)
		if uint64(iter.Offset) > uint64(^uint32(0)) {
			return nil, nil, fmt.Errorf("instruction %d: offset too large", iter.Index)
		}
		fn := FuncMetadata(iter.Ins)
		if fn != nil {
			id, err := b.Add(fn)
			if err != nil {
				return nil, nil, fmt.Errorf("instruction %d: func %s: %w", iter.Index, fn.Name, err)
			}
			funcInfos = bo.AppendUint32(funcInfos, off)
			funcInfos = bo.AppendUint32(funcInfos, uint32(id))
		}
		if !hasLines {
			continue
		}
		src := iter.Ins.Source()
		if src == nil && fn == nil {
			continue
		}
		var file, text string
		var lineCol uint32
		switch s := src.(type) {
		case nil:
		case *Line:
			file, text, lineCol = s.fileName, s.line, s.lineCol()
		default:
			text = s.String()
		}
		fileOff, err := b.strings.add(file)
		if err != nil {
			return nil, nil, fmt.Errorf("instruction %d: %w", iter.Index, err)
		}
		textOff, err := b.strings.add(text)
		if err != nil {
			return nil, nil, fmt.Errorf("instruction %d: %w", iter.Index, err)
		}
		lineInfos = appendLineInfo(lineInfos, bo, off, fileOff, textOff, lineCol)
	}
	return funcInfos, lineInfos, nil
}

func appendLineInfo(buf []byte, bo binary.AppendByteOrder, insnOff, file, line, lineCol uint32) []byte {
	buf = bo.AppendUint32(buf, insnOff)
	buf = bo.AppendUint32(buf, file)
	buf = bo.AppendUint32(buf, line)
	return bo.AppendUint32(buf, lineCol)
}
