package main

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
)

// describe turns a CollectionSpec into the Object that show prints. It makes
// no syscalls. disasm adds the disassembly of every program.
func describe(file string, spec *ebpf.CollectionSpec, disasm bool) *Object {
	obj := objectHeader(file, spec)
	for _, name := range slices.Sorted(maps.Keys(spec.Maps)) {
		obj.Maps = append(obj.Maps, describeMap(name, spec.Maps[name], spec.ByteOrder, 0))
	}
	for _, name := range slices.Sorted(maps.Keys(spec.Programs)) {
		obj.Programs = append(obj.Programs, describeProgram(name, spec.Programs[name], disasm))
	}
	for _, name := range slices.Sorted(maps.Keys(spec.Variables)) {
		obj.Variables = append(obj.Variables, describeVariable(name, spec.Variables[name], spec.ByteOrder))
	}
	return obj
}

// objectHeader is the part of Object that load and run report: the file,
// byte order and BTF, with empty lists.
func objectHeader(file string, spec *ebpf.CollectionSpec) *Object {
	return &Object{
		File:      file,
		ByteOrder: byteOrderName(spec.ByteOrder),
		BTF:       spec.Types != nil,
		Maps:      []*Map{},
		Programs:  []*Program{},
		Variables: []*Variable{},
	}
}

func byteOrderName(bo binary.ByteOrder) string {
	if bo != nil && isBigEndian(bo) {
		return "big-endian"
	}
	return "little-endian"
}

// maxInnerMapDepth bounds how many levels of inner maps are described.
const maxInnerMapDepth = 4

func describeMap(name string, ms *ebpf.MapSpec, bo binary.ByteOrder, depth int) *Map {
	m := &Map{
		Name:       name,
		Type:       ms.Type.String(),
		KeySize:    ms.KeySize,
		ValueSize:  ms.ValueSize,
		MaxEntries: ms.MaxEntries,
		Flags:      ms.Flags,
		FlagNames:  flagNames(ms.Flags, mapFlags),
		Pinning:    pinningName(ms.Pinning),
		MapExtra:   ms.MapExtra,
	}
	if _, ok := ms.Key.(*btf.Void); !ok {
		m.KeyType = typeString(ms.Key)
	}
	m.ValueType = typeString(ms.Value)
	if _, ok := ms.Value.(*btf.Datasec); ok {
		m.Section = true
	}
	if ms.InnerMap != nil && depth < maxInnerMapDepth {
		m.InnerMap = describeMap(ms.InnerMap.Name, ms.InnerMap, bo, depth+1)
	}
	for _, kv := range ms.Contents {
		e := &Entry{
			Key:   formatAny(kv.Key, ms.Key, bo),
			Value: formatAny(kv.Value, ms.Value, bo),
		}
		if b, ok := kv.Value.([]byte); ok {
			e.ValueHex = hexString(b)
		}
		m.Contents = append(m.Contents, e)
	}
	return m
}

// formatAny prints a key or value of MapSpec.Contents: bytes decoded
// through the map's BTF type, names of programs and maps as they are,
// numbers in decimal.
func formatAny(v any, typ btf.Type, bo binary.ByteOrder) string {
	switch v := v.(type) {
	case []byte:
		return formatValue(typ, v, bo)
	case string:
		return v
	case nil:
		return ""
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

func pinningName(pt ebpf.PinType) string {
	switch pt {
	case ebpf.PinNone:
		return "none"
	case ebpf.PinByName:
		return "by_name"
	}
	return pt.String()
}

// flagName names a bit of a flags word.
type flagName struct {
	bit  uint32
	name string
}

// mapFlags are the BPF_F_* flags of BPF_MAP_CREATE, from the kernel's UAPI
// header.
var mapFlags = []flagName{
	{1 << 0, "no_prealloc"},
	{1 << 1, "no_common_lru"},
	{1 << 2, "numa_node"},
	{1 << 3, "rdonly"},
	{1 << 4, "wronly"},
	{1 << 5, "stack_build_id"},
	{1 << 6, "zero_seed"},
	{1 << 7, "rdonly_prog"},
	{1 << 8, "wronly_prog"},
	{1 << 9, "clone"},
	{1 << 10, "mmapable"},
	{1 << 11, "preserve_elems"},
	{1 << 12, "inner_map"},
	{1 << 13, "link"},
	{1 << 14, "path_fd"},
	{1 << 15, "vtype_btf_obj_fd"},
	{1 << 16, "token_fd"},
	{1 << 17, "segv_on_fault"},
	{1 << 18, "no_user_conv"},
}

// progFlags are the BPF_F_* flags of BPF_PROG_LOAD.
var progFlags = []flagName{
	{unix.BPF_F_STRICT_ALIGNMENT, "strict_alignment"},
	{unix.BPF_F_ANY_ALIGNMENT, "any_alignment"},
	{unix.BPF_F_TEST_RND_HI32, "test_rnd_hi32"},
	{unix.BPF_F_TEST_STATE_FREQ, "test_state_freq"},
	{unix.BPF_F_SLEEPABLE, "sleepable"},
	{unix.BPF_F_XDP_HAS_FRAGS, "xdp_has_frags"},
	{unix.BPF_F_XDP_DEV_BOUND_ONLY, "xdp_dev_bound_only"},
	{unix.BPF_F_TEST_REG_INVARIANTS, "test_reg_invariants"},
}

// flagNames names the bits set in flags; unknown bits are given in hex.
func flagNames(flags uint32, known []flagName) []string {
	var names []string
	for _, f := range known {
		if flags&f.bit != 0 {
			names = append(names, f.name)
			flags &^= f.bit
		}
	}
	if flags != 0 {
		names = append(names, fmt.Sprintf("%#x", flags))
	}
	return names
}

func describeProgram(name string, ps *ebpf.ProgramSpec, disasm bool) *Program {
	p := &Program{
		Name:         name,
		Section:      ps.SectionName,
		Type:         ps.Type.String(),
		AttachType:   attachTypeName(ps),
		AttachTo:     ps.AttachTo,
		Instructions: int(ps.Instructions.Size() / asm.InstructionSize),
		License:      ps.License,
		Flags:        ps.Flags,
	}
	refs := map[string]bool{}
	for i, ins := range ps.Instructions {
		if sym := ins.Symbol(); sym != "" && i > 0 {
			p.Functions = append(p.Functions, sym)
		}
		if ref := ins.Reference(); ref != "" && ins.IsLoadFromMap() {
			refs[ref] = true
		}
	}
	p.Maps = slices.Sorted(maps.Keys(refs))
	slices.Sort(p.Functions)
	p.Functions = slices.Compact(p.Functions)
	if disasm {
		p.Disassembly = disassemble(ps.Instructions)
	}
	return p
}

// attachTypeName names the program's attach type. The kernel's attach type
// 0 is cgroup inet ingress, which means something only for cgroup skb
// programs; for every other type 0 means "none".
func attachTypeName(ps *ebpf.ProgramSpec) string {
	if ps.AttachType == ebpf.AttachNone && ps.Type != ebpf.CGroupSKB {
		return ""
	}
	return ps.AttachType.String()
}

func describeVariable(name string, vs *ebpf.VariableSpec, bo binary.ByteOrder) *Variable {
	v := &Variable{
		Name:     name,
		Section:  vs.SectionName,
		Offset:   vs.Offset,
		Size:     vs.Size(),
		Constant: vs.Constant(),
		Hex:      hexString(vs.Value),
	}
	var typ btf.Type
	if vs.Type != nil {
		typ = vs.Type.Type
		v.Type = typeString(typ)
	}
	v.Value = formatValue(typ, vs.Value, bo)
	return v
}

// disassemble lists insns with the function each starts and the source
// line from BTF line info wherever it changes.
func disassemble(insns asm.Instructions) []*Instruction {
	var out []*Instruction
	var lastSource string
	iter := insns.Iterate()
	for iter.Next() {
		ins := iter.Ins
		di := &Instruction{Offset: int(iter.Offset), Function: ins.Symbol()}
		if di.Function != "" {
			lastSource = ""
		}
		if src := sourceString(ins.Source()); src != "" && src != lastSource {
			di.Source = src
			lastSource = src
		}
		di.Text = fmt.Sprint(*ins)
		out = append(out, di)
	}
	return out
}

// sourceString prints a source annotation as "file.c:LINE: text", or the
// annotation's own text when it isn't BTF line info.
func sourceString(src fmt.Stringer) string {
	if src == nil {
		return ""
	}
	line, ok := src.(*btf.Line)
	if !ok {
		return strings.TrimSpace(src.String())
	}
	loc := sourceLocation(line)
	text := strings.TrimSpace(line.Line())
	if loc == "" {
		return text
	}
	return loc + ": " + text
}

// sourceLocation is "file.c:LINE" of a line, without the "./" that objects
// built with -fdebug-compilation-dir=. record.
func sourceLocation(line *btf.Line) string {
	if line.FileName() == "" {
		return ""
	}
	return strings.TrimPrefix(line.FileName(), "./") + ":" + strconv.FormatUint(uint64(line.LineNumber()), 10)
}
