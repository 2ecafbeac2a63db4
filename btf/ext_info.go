package btf

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/bpfkit/ebpf/asm"
)

// .BTF.ext holds, per ELF section, three lists of records that refer to
// instructions by byte offset: function info (which BTF Func starts at an
// instruction), line info (which source line an instruction comes from)
// and CO-RE relocations. Its header is libbpf's struct btf_ext_header,
// which is not UAPI; the records are UAPI (bpf_func_info, bpf_line_info,
// bpf_core_relo, see wire_gen.go).

// Layout of libbpf's struct btf_ext_header.
const (
	extHeaderMagicOff       = 0
	extHeaderVersionOff     = 2
	extHeaderHdrLenOff      = 4
	extHeaderFuncInfoOffOff = 8
	extHeaderFuncInfoLenOff = 12
	extHeaderLineInfoOffOff = 16
	extHeaderLineInfoLenOff = 20
	extHeaderCoreReloOffOff = 24
	extHeaderCoreReloLenOff = 28
	extHeaderMinSize        = 24 // without the CO-RE fields
	extHeaderSize           = 32
)

// FuncInfoSize and LineInfoSize are the sizes of a bpf_func_info and a
// bpf_line_info record in the kernel's wire format.
var (
	FuncInfoSize = uint32(bpfFuncInfoSize)
	LineInfoSize = uint32(bpfLineInfoSize)
)

// ExtInfos holds the records of a .BTF.ext section, by ELF section name.
type ExtInfos struct {
	Funcs     map[string]FuncOffsets
	Lines     map[string]LineOffsets
	CORERelos map[string]CORERelocationOffsets
}

// Section returns the records of one ELF section. Any of them may be nil;
// all are nil if ei is nil.
func (ei *ExtInfos) Section(name string) (FuncOffsets, LineOffsets, CORERelocationOffsets) {
	if ei == nil {
		return nil, nil, nil
	}
	return ei.Funcs[name], ei.Lines[name], ei.CORERelos[name]
}

// FuncOffset says that Func starts at Offset.
type FuncOffset struct {
	Offset asm.RawInstructionOffset
	Func   *Func
}

// FuncOffsets is a list of FuncOffset sorted by Offset.
type FuncOffsets = []FuncOffset

// LineOffset says that the instruction at Offset comes from Line.
type LineOffset struct {
	Offset asm.RawInstructionOffset
	Line   *Line
}

// LineOffsets is a list of LineOffset sorted by Offset.
type LineOffsets = []LineOffset

// CORERelocationOffset says that Relo applies to the instruction at Offset.
type CORERelocationOffset struct {
	Relo   *CORERelocation
	Offset asm.RawInstructionOffset
}

// CORERelocationOffsets is a list of CORERelocationOffset sorted by Offset.
type CORERelocationOffsets = []CORERelocationOffset

// Line is a line of the source code a program was compiled from: the
// file, the line's text, and its number and column.
type Line struct {
	fileName   string
	line       string
	lineNumber uint32
	lineColumn uint32
}

// The bits of bpf_line_info.line_col (BPF_LINE_INFO_LINE_NUM and
// BPF_LINE_INFO_LINE_COL).
const lineColumnBits = 10

func makeLine(fileName, line string, lineCol uint32) Line {
	return Line{fileName, line, lineCol >> lineColumnBits, lineCol & (1<<lineColumnBits - 1)}
}

// FileName is the source file, as the compiler saw it.
func (li *Line) FileName() string { return li.fileName }

// Line is the text of the source line.
func (li *Line) Line() string { return li.line }

// LineNumber is the number of the line, counting from 1.
func (li *Line) LineNumber() uint32 { return li.lineNumber }

// LineColumn is the column, counting from 1, or 0 if unknown.
func (li *Line) LineColumn() uint32 { return li.lineColumn }

// String returns the line's text as the compiler recorded it, indentation
// included, like Line.
func (li *Line) String() string { return li.line }

func (li *Line) lineCol() uint32 {
	return li.lineNumber<<lineColumnBits | li.lineColumn&(1<<lineColumnBits-1)
}

// extSection is one btf_ext_info_sec: records of one ELF section.
type extSection struct {
	name    string
	records []byte
	n       int
	size    int
}

// extParser reads the record lists of .BTF.ext.
type extParser struct {
	order byteOrder
	spec  *Spec
}

// loadExtInfos parses a .BTF.ext section whose strings and types are those
// of spec.
func loadExtInfos(data []byte, spec *Spec) (*ExtInfos, error) {
	order, ok := sniffOrder(data)
	if !ok {
		return nil, errors.New("bad magic")
	}
	if order != spec.raw.order {
		return nil, errors.New("byte order differs from .BTF")
	}
	if len(data) < extHeaderMinSize {
		return nil, fmt.Errorf("header: %d bytes, want at least %d", len(data), extHeaderMinSize)
	}
	if v := data[extHeaderVersionOff]; v != 1 {
		return nil, fmt.Errorf("header: unsupported version %d", v)
	}
	hdrLen := order.u32(data[extHeaderHdrLenOff:])
	if hdrLen < extHeaderMinSize || uint64(hdrLen) > uint64(len(data)) {
		return nil, fmt.Errorf("header: hdr_len %d out of bounds (%d bytes)", hdrLen, len(data))
	}
	body := data[hdrLen:]
	part := func(name string, offOff, lenOff int) ([]byte, error) {
		off, length := order.u32(data[offOff:]), order.u32(data[lenOff:])
		end := uint64(off) + uint64(length)
		if end > uint64(len(body)) {
			return nil, fmt.Errorf("%s: [%d, %d) beyond the %d bytes after the header", name, off, end, len(body))
		}
		return body[off:end], nil
	}
	p := extParser{order: order, spec: spec}
	ei := new(ExtInfos)

	funcs, err := part("func info", extHeaderFuncInfoOffOff, extHeaderFuncInfoLenOff)
	if err != nil {
		return nil, err
	}
	secs, err := p.sections("func info", funcs, bpfFuncInfoSize)
	if err != nil {
		return nil, err
	}
	var relos []byte
	var reloSecs []extSection
	if hdrLen >= extHeaderSize {
		if relos, err = part("CO-RE relocations", extHeaderCoreReloOffOff, extHeaderCoreReloLenOff); err != nil {
			return nil, err
		}
		if reloSecs, err = p.sections("CO-RE relocations", relos, bpfCoreReloSize); err != nil {
			return nil, err
		}
	}
	p.prefetch(secs, bpfFuncInfoTypeIdOff, reloSecs, bpfCoreReloTypeIdOff)
	ei.Funcs = make(map[string]FuncOffsets, len(secs))
	for _, sec := range secs {
		fos, err := p.funcInfos(sec, true)
		if err != nil {
			return nil, fmt.Errorf("func info: section %s: %w", sec.name, err)
		}
		ei.Funcs[sec.name] = fos
	}

	lines, err := part("line info", extHeaderLineInfoOffOff, extHeaderLineInfoLenOff)
	if err != nil {
		return nil, err
	}
	if secs, err = p.sections("line info", lines, bpfLineInfoSize); err != nil {
		return nil, err
	}
	ei.Lines = make(map[string]LineOffsets, len(secs))
	for _, sec := range secs {
		los, err := p.lineInfos(sec, true)
		if err != nil {
			return nil, fmt.Errorf("line info: section %s: %w", sec.name, err)
		}
		ei.Lines[sec.name] = los
	}

	ei.CORERelos = make(map[string]CORERelocationOffsets, len(reloSecs))
	for _, sec := range reloSecs {
		cos, err := p.coreRelos(sec)
		if err != nil {
			return nil, fmt.Errorf("CO-RE relocations: section %s: %w", sec.name, err)
		}
		ei.CORERelos[sec.name] = cos
	}
	return ei, nil
}

// prefetch decodes the types that the records of two lists of sections
// refer to (the type ID of each record is at idOff) in one request, so that
// reading the records finds them decoded. A bad ID is left for the record
// that has it to report.
func (p *extParser) prefetch(a []extSection, aOff int, b []extSection, bOff int) {
	n := 0
	for _, sec := range a {
		n += sec.n
	}
	for _, sec := range b {
		n += sec.n
	}
	if n == 0 {
		return
	}
	ids := make([]TypeID, 0, n)
	for _, sec := range a {
		for i := range sec.n {
			ids = append(ids, TypeID(p.order.u32(sec.records[i*sec.size+aOff:])))
		}
	}
	for _, sec := range b {
		for i := range sec.n {
			ids = append(ids, TypeID(p.order.u32(sec.records[i*sec.size+bOff:])))
		}
	}
	p.spec.mu.Lock()
	defer p.spec.mu.Unlock()
	_ = p.spec.decodeAll(ids)
}

// sections splits one record list: a record size, then per section a name
// offset, a count and the records.
func (p *extParser) sections(what string, data []byte, minSize int) ([]extSection, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("%s: truncated record size", what)
	}
	size := p.order.u32(data)
	if size < uint32(minSize) || size%4 != 0 || size > 1<<16 {
		return nil, fmt.Errorf("%s: invalid record size %d", what, size)
	}
	data = data[4:]
	// Count the sections first, so that the list is allocated once: an
	// object with a hundred programs has a hundred sections.
	count := 0
	for rest := data; len(rest) >= 8; {
		count++
		n := uint64(p.order.u32(rest[4:]))
		if n*uint64(size) > uint64(len(rest)-8) {
			break
		}
		rest = rest[8+n*uint64(size):]
	}
	secs := make([]extSection, 0, count)
	for len(data) > 0 {
		if len(data) < 8 {
			return nil, fmt.Errorf("%s: truncated section header", what)
		}
		nameOff, n := p.order.u32(data), p.order.u32(data[4:])
		name, err := p.spec.raw.strings.lookup(nameOff)
		if err != nil {
			return nil, fmt.Errorf("%s: section name: %w", what, err)
		}
		data = data[8:]
		if uint64(n)*uint64(size) > uint64(len(data)) {
			return nil, fmt.Errorf("%s: section %s: %d records of %d bytes exceed the %d bytes left", what, name, n, size, len(data))
		}
		end := int(n) * int(size)
		secs = append(secs, extSection{name: name, records: data[:end], n: int(n), size: int(size)})
		data = data[end:]
	}
	return secs, nil
}

// insnOffset converts a record's insn_off: bytes in .BTF.ext, instructions
// in the kernel's format.
func insnOffset(raw uint32, inBytes bool) (asm.RawInstructionOffset, error) {
	if !inBytes {
		return asm.RawInstructionOffset(raw), nil
	}
	if raw%asm.InstructionSize != 0 {
		return 0, fmt.Errorf("instruction offset %d is not a multiple of %d", raw, asm.InstructionSize)
	}
	return asm.RawInstructionOffset(raw / asm.InstructionSize), nil
}

func (p *extParser) funcInfos(sec extSection, inBytes bool) (FuncOffsets, error) {
	out := make(FuncOffsets, 0, sec.n)
	for i := range sec.n {
		rec := sec.records[i*sec.size:]
		off, err := insnOffset(p.order.u32(rec[bpfFuncInfoInsnOffOff:]), inBytes)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		id := TypeID(p.order.u32(rec[bpfFuncInfoTypeIdOff:]))
		typ, err := p.spec.TypeByID(id)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		fn, ok := typ.(*Func)
		if !ok {
			return nil, fmt.Errorf("record %d: type id %d is %s, not a Func", i, id, typ)
		}
		out = append(out, FuncOffset{off, fn})
	}
	sortByOffset(out, func(fo FuncOffset) asm.RawInstructionOffset { return fo.Offset })
	return out, nil
}

// sortByOffset sorts records by instruction offset, keeping the order of
// records at the same offset. Compilers write them sorted already.
func sortByOffset[T any](records []T, offset func(T) asm.RawInstructionOffset) {
	cmpOffset := func(a, b T) int { return cmp.Compare(offset(a), offset(b)) }
	if !slices.IsSortedFunc(records, cmpOffset) {
		slices.SortStableFunc(records, cmpOffset)
	}
}

func (p *extParser) lineInfos(sec extSection, inBytes bool) (LineOffsets, error) {
	out := make(LineOffsets, 0, sec.n)
	// The Lines of a section share one block.
	block := make([]Line, sec.n)
	strs := p.spec.raw.strings
	for i := range sec.n {
		rec := sec.records[i*sec.size:]
		off, err := insnOffset(p.order.u32(rec[bpfLineInfoInsnOffOff:]), inBytes)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		file, err := strs.lookup(p.order.u32(rec[bpfLineInfoFileNameOffOff:]))
		if err != nil {
			return nil, fmt.Errorf("record %d: file name: %w", i, err)
		}
		line, err := strs.lookup(p.order.u32(rec[bpfLineInfoLineOffOff:]))
		if err != nil {
			return nil, fmt.Errorf("record %d: line: %w", i, err)
		}
		li := &block[i]
		*li = makeLine(file, line, p.order.u32(rec[bpfLineInfoLineColOff:]))
		out = append(out, LineOffset{off, li})
	}
	sortByOffset(out, func(lo LineOffset) asm.RawInstructionOffset { return lo.Offset })
	return out, nil
}

func (p *extParser) coreRelos(sec extSection) (CORERelocationOffsets, error) {
	out := make(CORERelocationOffsets, 0, sec.n)
	block := make([]CORERelocation, sec.n)
	for i := range sec.n {
		rec := sec.records[i*sec.size:]
		off, err := insnOffset(p.order.u32(rec[bpfCoreReloInsnOffOff:]), true)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		id := TypeID(p.order.u32(rec[bpfCoreReloTypeIdOff:]))
		typ, err := p.spec.TypeByID(id)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		access, err := p.spec.raw.strings.lookup(p.order.u32(rec[bpfCoreReloAccessStrOffOff:]))
		if err != nil {
			return nil, fmt.Errorf("record %d: access string: %w", i, err)
		}
		accessor, err := parseCOREAccessor(access)
		if err != nil {
			return nil, fmt.Errorf("record %d: access string %q: %w", i, access, err)
		}
		kind := coreKind(p.order.u32(rec[bpfCoreReloKindOff:]))
		if kind > coreTypeMatches {
			return nil, fmt.Errorf("record %d: unknown relocation kind %d", i, kind)
		}
		relo := &block[i]
		*relo = CORERelocation{typ: typ, accessor: accessor, kind: kind, id: id}
		out = append(out, CORERelocationOffset{relo, off})
	}
	sortByOffset(out, func(ro CORERelocationOffset) asm.RawInstructionOffset { return ro.Offset })
	return out, nil
}

// parseCOREAccessor parses an access string like "0:1:3".
func parseCOREAccessor(access string) (coreAccessor, error) {
	if access == "" {
		return nil, errors.New("empty")
	}
	acc := make(coreAccessor, 0, strings.Count(access, ":")+1)
	for part := range strings.SplitSeq(access, ":") {
		n, err := strconv.ParseUint(part, 10, 31)
		if err != nil {
			return nil, err
		}
		acc = append(acc, int(n))
	}
	return acc, nil
}

// readRecords reads n records of size bytes in the kernel's format, growing
// the buffer as data arrives.
func readRecords(r io.Reader, n uint32, size int) ([]byte, error) {
	total := uint64(n) * uint64(size)
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("%d records are too many", n)
	}
	var buf []byte
	const chunk = 64 << 10
	for uint64(len(buf)) < total {
		next := int(min(chunk, total-uint64(len(buf))))
		start := len(buf)
		buf = append(buf, make([]byte, next)...)
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			return nil, fmt.Errorf("read %d records: %w", n, unexpectedEOF(err))
		}
	}
	return buf, nil
}

// LoadFuncInfos parses recordNum bpf_func_info records in the kernel's
// format (instruction offsets counted in instructions), as returned by
// BPF_OBJ_GET_INFO_BY_FD for a program, whose BTF is spec.
func LoadFuncInfos(reader io.Reader, bo binary.ByteOrder, recordNum uint32, spec *Spec) (FuncOffsets, error) {
	order, err := orderOf(bo)
	if err != nil {
		return nil, err
	}
	data, err := readRecords(reader, recordNum, bpfFuncInfoSize)
	if err != nil {
		return nil, fmt.Errorf("func info: %w", err)
	}
	p := extParser{order: order, spec: spec}
	fos, err := p.funcInfos(extSection{records: data, n: int(recordNum), size: bpfFuncInfoSize}, false)
	if err != nil {
		return nil, fmt.Errorf("func info: %w", err)
	}
	return fos, nil
}

// LoadLineInfos parses recordNum bpf_line_info records in the kernel's
// format, whose strings are those of spec.
func LoadLineInfos(reader io.Reader, bo binary.ByteOrder, recordNum uint32, spec *Spec) (LineOffsets, error) {
	order, err := orderOf(bo)
	if err != nil {
		return nil, err
	}
	data, err := readRecords(reader, recordNum, bpfLineInfoSize)
	if err != nil {
		return nil, fmt.Errorf("line info: %w", err)
	}
	p := extParser{order: order, spec: spec}
	los, err := p.lineInfos(extSection{records: data, n: int(recordNum), size: bpfLineInfoSize}, false)
	if err != nil {
		return nil, fmt.Errorf("line info: %w", err)
	}
	return los, nil
}
