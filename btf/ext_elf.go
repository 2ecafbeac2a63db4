package btf

import (
	"encoding/binary"
	"fmt"

	"github.com/bpfkit/ebpf/asm"
)

// This file writes .BTF.ext sections for ELF objects, the inverse of
// loadExtInfos: the static linker (the root package's elf_link*.go) merges
// the records of several objects and writes them out again.

// ExtSection holds the .BTF.ext records of one ELF section, as written to an
// object: offsets count instructions from the start of the section.
type ExtSection struct {
	Name      string
	Funcs     FuncOffsets
	Lines     LineOffsets
	CORERelos CORERelocationOffsets
}

// MarshalELFExtInfos encodes sections as the contents of a .BTF.ext
// section in the given byte order, in the order given. The types that the
// records name must have been added to b; their names, the section names,
// the source lines and the CO-RE access strings are added to b's string
// table, so call it before b.Marshal. It returns nil when there are no
// records at all, since an object then has no .BTF.ext. An addition to
// cilium/ebpf's API.
func MarshalELFExtInfos(b *Builder, order binary.ByteOrder, sections []ExtSection) ([]byte, error) {
	b.init()
	bo, ok := order.(binary.AppendByteOrder)
	if !ok {
		return nil, fmt.Errorf("byte order %s can't append", order)
	}
	insnOff := func(off asm.RawInstructionOffset) (uint32, error) {
		bytes := uint64(off) * asm.InstructionSize
		if bytes > 1<<32-1 {
			return 0, fmt.Errorf("instruction offset %d is too large", off)
		}
		return uint32(bytes), nil
	}
	// part encodes one record list: its record size, then per section the
	// name, the count and the records. Sections without records are left
	// out, as libbpf does.
	part := func(recSize uint32, count func(s *ExtSection) int, rec func(buf []byte, s *ExtSection, i int) ([]byte, error)) ([]byte, error) {
		var buf []byte
		for i := range sections {
			s := &sections[i]
			n := count(s)
			if n == 0 {
				continue
			}
			if buf == nil {
				buf = bo.AppendUint32(buf, recSize)
			}
			name, err := b.addString(s.Name)
			if err != nil {
				return nil, err
			}
			buf = bo.AppendUint32(buf, name)
			buf = bo.AppendUint32(buf, uint32(n))
			for j := range n {
				if buf, err = rec(buf, s, j); err != nil {
					return nil, fmt.Errorf("section %s: %w", s.Name, err)
				}
			}
		}
		return buf, nil
	}

	funcs, err := part(bpfFuncInfoSize, func(s *ExtSection) int { return len(s.Funcs) }, func(buf []byte, s *ExtSection, i int) ([]byte, error) {
		fo := s.Funcs[i]
		off, err := insnOff(fo.Offset)
		if err != nil {
			return nil, err
		}
		id, err := b.Add(fo.Func)
		if err != nil {
			return nil, fmt.Errorf("func info: %w", err)
		}
		buf = bo.AppendUint32(buf, off)
		return bo.AppendUint32(buf, uint32(id)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("func info: %w", err)
	}
	lines, err := part(bpfLineInfoSize, func(s *ExtSection) int { return len(s.Lines) }, func(buf []byte, s *ExtSection, i int) ([]byte, error) {
		lo := s.Lines[i]
		off, err := insnOff(lo.Offset)
		if err != nil {
			return nil, err
		}
		file, err := b.addString(lo.Line.fileName)
		if err != nil {
			return nil, err
		}
		text, err := b.addString(lo.Line.line)
		if err != nil {
			return nil, err
		}
		return appendLineInfo(buf, bo, off, file, text, lo.Line.lineCol()), nil
	})
	if err != nil {
		return nil, fmt.Errorf("line info: %w", err)
	}
	relos, err := part(bpfCoreReloSize, func(s *ExtSection) int { return len(s.CORERelos) }, func(buf []byte, s *ExtSection, i int) ([]byte, error) {
		ro := s.CORERelos[i]
		off, err := insnOff(ro.Offset)
		if err != nil {
			return nil, err
		}
		id, err := b.Add(ro.Relo.typ)
		if err != nil {
			return nil, fmt.Errorf("CO-RE relocation: %w", err)
		}
		access, err := b.addString(ro.Relo.accessor.String())
		if err != nil {
			return nil, err
		}
		buf = bo.AppendUint32(buf, off)
		buf = bo.AppendUint32(buf, uint32(id))
		buf = bo.AppendUint32(buf, access)
		return bo.AppendUint32(buf, uint32(ro.Relo.kind)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("CO-RE relocations: %w", err)
	}
	if funcs == nil && lines == nil && relos == nil {
		return nil, nil
	}

	out := make([]byte, extHeaderSize, extHeaderSize+len(funcs)+len(lines)+len(relos))
	order.PutUint16(out[extHeaderMagicOff:], btfMagic)
	out[extHeaderVersionOff] = 1
	order.PutUint32(out[extHeaderHdrLenOff:], extHeaderSize)
	order.PutUint32(out[extHeaderFuncInfoOffOff:], 0)
	order.PutUint32(out[extHeaderFuncInfoLenOff:], uint32(len(funcs)))
	order.PutUint32(out[extHeaderLineInfoOffOff:], uint32(len(funcs)))
	order.PutUint32(out[extHeaderLineInfoLenOff:], uint32(len(lines)))
	order.PutUint32(out[extHeaderCoreReloOffOff:], uint32(len(funcs)+len(lines)))
	order.PutUint32(out[extHeaderCoreReloLenOff:], uint32(len(relos)))
	out = append(out, funcs...)
	out = append(out, lines...)
	return append(out, relos...), nil
}
