package ebpf

import (
	"bufio"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/btf"
)

// These tests check the reader against what LLVM's tools and bpftool say
// about the test objects: every function of an executable section outside
// .text is a program of the same section and instruction count, every
// visible global of a data section is a variable at the same offset and
// size, every BTF datasec places its variables at their symbols, and every
// BTF map has the type, sizes, entries and flags that its BTF encodes.

func lookTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed: %v", name, err)
	}
	return path
}

func runTool(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out, err := exec.Command(tool, args...).Output()
	qt.Assert(t, qt.IsNil(err), qt.Commentf("%s %s", tool, strings.Join(args, " ")))
	return string(out)
}

type readelfSymbol struct {
	value, size      uint64
	typ, bind, vis   string
	section          int
	name             string
	sectionName      string
	sectionType      string
	sectionExecFlags bool
	sectionSize      uint64
}

var (
	readelfSection = regexp.MustCompile(`^\s*\[\s*(\d+)\]\s+(\S*)\s+(\S+)\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([A-Za-z]*)\s`)
	readelfSym     = regexp.MustCompile(`^\s*\d+:\s+([0-9a-f]+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(\S*)$`)
	objdumpFunc    = regexp.MustCompile(`^[0-9a-f]+ <(.+)>:$`)
	objdumpInsn    = regexp.MustCompile(`^\s+\d+:\s`)
)

// readelfSymbols lists the symbols of an object with their sections.
func readelfSymbols(t *testing.T, file string) []readelfSymbol {
	out := runTool(t, lookTool(t, "llvm-readelf-19"), "-S", "-s", "-W", file)
	type section struct {
		name, typ string
		exec      bool
		size      uint64
	}
	sections := map[int]section{}
	var syms []readelfSymbol
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := readelfSection.FindStringSubmatch(line); m != nil {
			i, _ := strconv.Atoi(m[1])
			size, _ := strconv.ParseUint(m[4], 16, 64)
			sections[i] = section{m[2], m[3], strings.Contains(m[5], "X"), size}
			continue
		}
		if m := readelfSym.FindStringSubmatch(line); m != nil {
			value, _ := strconv.ParseUint(m[1], 16, 64)
			size, _ := strconv.ParseUint(m[2], 10, 64)
			sym := readelfSymbol{value: value, size: size, typ: m[3], bind: m[4], vis: m[5], name: m[7], section: -1}
			if i, err := strconv.Atoi(m[6]); err == nil {
				sym.section = i
				sec := sections[i]
				sym.sectionName, sym.sectionType, sym.sectionExecFlags, sym.sectionSize = sec.name, sec.typ, sec.exec, sec.size
			}
			syms = append(syms, sym)
		}
	}
	return syms
}

// objdumpCounts returns the number of instructions of each function.
func objdumpCounts(t *testing.T, file string) map[string]int {
	out := runTool(t, lookTool(t, "llvm-objdump-19"), "-d", "--no-show-raw-insn", file)
	counts := map[string]int{}
	var fn string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := objdumpFunc.FindStringSubmatch(line); m != nil {
			fn = m[1]
			continue
		}
		if fn != "" && objdumpInsn.MatchString(line) {
			counts[fn]++
		}
	}
	return counts
}

func TestAgainstLLVM(t *testing.T) {
	// One skip for the whole table when the tools are missing (as in the
	// VM tests' initramfs), not one per object.
	lookTool(t, "llvm-readelf-19")
	lookTool(t, "llvm-objdump-19")
	for _, name := range testObjects(t) {
		if isInvalidObject(name) {
			continue
		}
		for _, order := range []string{"el", "eb"} {
			t.Run(name+"-"+order, func(t *testing.T) {
				file := "testdata/" + name + "-" + order + ".elf"
				spec := mustLoad(t, name, order)
				syms := readelfSymbols(t, file)
				counts := objdumpCounts(t, file)

				progs := map[string]bool{}
				vars := map[string]bool{}
				for _, sym := range syms {
					switch {
					case sym.typ == "FUNC" && sym.sectionExecFlags && sym.sectionName != ".text":
						progs[sym.name] = true
						p := spec.Programs[sym.name]
						qt.Assert(t, qt.IsNotNil(p), qt.Commentf("program %s", sym.name))
						qt.Assert(t, qt.Equals(p.SectionName, sym.sectionName))
						qt.Assert(t, qt.Equals(ownInstructions(p), counts[sym.name]), qt.Commentf("program %s", sym.name))

					case sym.typ == "OBJECT" && isDataSection(sym.sectionName) &&
						(sym.bind == "GLOBAL" || sym.bind == "WEAK") && sym.vis == "DEFAULT":
						vars[sym.name] = true
						v := spec.Variables[sym.name]
						qt.Assert(t, qt.IsNotNil(v), qt.Commentf("variable %s", sym.name))
						qt.Assert(t, qt.Equals(v.SectionName, sym.sectionName))
						qt.Assert(t, qt.Equals(uint64(v.Offset), sym.value))
						qt.Assert(t, qt.Equals(uint64(len(v.Value)), sym.size))
						qt.Assert(t, qt.IsNotNil(spec.Maps[sym.sectionName]))

					case sym.typ == "OBJECT" && (sym.sectionName == ".maps" || strings.HasPrefix(sym.sectionName, "maps")):
						qt.Assert(t, qt.IsNotNil(spec.Maps[sym.name]), qt.Commentf("map %s", sym.name))
					}
				}
				qt.Assert(t, qt.Equals(len(spec.Programs), len(progs)))
				qt.Assert(t, qt.Equals(len(spec.Variables), len(vars)))

				license := readelfLicense(t, file)
				for _, p := range spec.Programs {
					qt.Assert(t, qt.Equals(p.License, license))
				}
			})
		}
	}
}

var readelfString = regexp.MustCompile(`^\[\s*0\] (.*)$`)

// readelfLicense returns the string in the license section.
func readelfLicense(t *testing.T, file string) string {
	out := runTool(t, lookTool(t, "llvm-readelf-19"), "-p", "license", file)
	for _, line := range strings.Split(out, "\n") {
		if m := readelfString.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			return m[1]
		}
	}
	return ""
}

// ownInstructions counts the instructions of p up to the first linked
// function.
func ownInstructions(p *ProgramSpec) int {
	for i, ins := range p.Instructions[1:] {
		if ins.Symbol() != "" {
			return i + 1
		}
	}
	return len(p.Instructions)
}

// bpftoolType is a line of "bpftool btf dump file" output.
type bpftoolType struct {
	kind, name string
	size       uint64
	typeID     int
	nelems     uint64
	members    map[string]int // member name -> type id
}

var (
	bpftoolTypeLine   = regexp.MustCompile(`^\[(\d+)\] (\S+) '([^']*)'(.*)$`)
	bpftoolMemberLine = regexp.MustCompile(`^\t'([^']*)' type_id=(\d+)`)
	bpftoolAttr       = regexp.MustCompile(`(\w+)=(\d+)`)
)

func bpftoolTypes(t *testing.T, file string) map[int]*bpftoolType {
	out := runTool(t, lookTool(t, "bpftool"), "btf", "dump", "file", file)
	types := map[int]*bpftoolType{}
	var last *bpftoolType
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := bpftoolTypeLine.FindStringSubmatch(line); m != nil {
			id, _ := strconv.Atoi(m[1])
			last = &bpftoolType{kind: m[2], name: m[3], members: map[string]int{}}
			for _, a := range bpftoolAttr.FindAllStringSubmatch(m[4], -1) {
				n, _ := strconv.ParseUint(a[2], 10, 64)
				switch a[1] {
				case "size":
					last.size = n
				case "type_id":
					last.typeID = int(n)
				case "nr_elems":
					last.nelems = n
				}
			}
			types[id] = last
			continue
		}
		if m := bpftoolMemberLine.FindStringSubmatch(line); m != nil && last != nil {
			id, _ := strconv.Atoi(m[2])
			last.members[m[1]] = id
		}
	}
	return types
}

// bpftoolSize is the size of a type, following typedefs and qualifiers.
func bpftoolSize(types map[int]*bpftoolType, id int) uint64 {
	for depth := 0; depth < 32; depth++ {
		typ := types[id]
		switch typ.kind {
		case "INT", "STRUCT", "UNION", "ENUM", "ENUM64", "FLOAT":
			return typ.size
		case "PTR":
			return 8
		case "ARRAY":
			return typ.nelems * bpftoolSize(types, typ.typeID)
		default:
			id = typ.typeID
		}
	}
	return 0
}

func TestAgainstBpftool(t *testing.T) {
	lookTool(t, "bpftool") // one skip for the table
	for _, name := range testObjects(t) {
		if isInvalidObject(name) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			file := "testdata/" + name + "-el.elf"
			spec := mustLoad(t, name, "el")
			types := bpftoolTypes(t, file)
			for _, typ := range types {
				if typ.kind != "VAR" {
					continue
				}
				def := types[typ.typeID]
				// BTF map definitions: __uint(type, ...) is a pointer.
				if def.kind != "STRUCT" || def.members["type"] == 0 || types[def.members["type"]].kind != "PTR" {
					continue
				}
				m := spec.Maps[typ.name]
				if m == nil {
					continue // an inner map definition, checked through its outer map
				}
				uint := func(member string) uint64 {
					id, ok := def.members[member]
					if !ok {
						return 0
					}
					ptr := types[id]
					if ptr.kind != "PTR" {
						return 0
					}
					return types[ptr.typeID].nelems
				}
				typeSize := func(member string) uint64 {
					id, ok := def.members[member]
					if !ok {
						return uint(member + "_size")
					}
					return bpftoolSize(types, types[id].typeID)
				}
				qt.Assert(t, qt.Equals(uint64(m.Type), uint("type")), qt.Commentf("map %s", typ.name))
				qt.Assert(t, qt.Equals(uint64(m.MaxEntries), uint("max_entries")), qt.Commentf("map %s", typ.name))
				qt.Assert(t, qt.Equals(uint64(m.Flags), uint("map_flags")), qt.Commentf("map %s", typ.name))
				qt.Assert(t, qt.Equals(uint64(m.KeySize), typeSize("key")), qt.Commentf("map %s", typ.name))
				switch {
				case def.members["values"] != 0:
					qt.Assert(t, qt.Equals(m.ValueSize, 4))
				case m.Type == RingBuf || m.Type == Arena || m.Type == PerfEventArray && def.members["value"] != 0:
					qt.Assert(t, qt.Equals(m.ValueSize, 0))
				default:
					qt.Assert(t, qt.Equals(uint64(m.ValueSize), typeSize("value")), qt.Commentf("map %s", typ.name))
				}
			}
		})
	}
}

// TestDatasecsAgainstReadelf checks that the BTF of every object places
// each variable of a data, map or struct_ops section where llvm-readelf
// says its symbol is, and sizes each datasec like its section: the
// compiler leaves both to the loader, and btf takes them from the ELF
// reader's tables.
func TestDatasecsAgainstReadelf(t *testing.T) {
	type row struct {
		Name         string
		Offset, Size uint64
	}
	checked := 0
	for _, name := range testObjects(t) {
		if isInvalidObject(name) {
			continue
		}
		for _, order := range []string{"el", "eb"} {
			file := "testdata/" + name + "-" + order + ".elf"
			spec := mustLoad(t, name, order)
			if spec.Types == nil {
				continue
			}
			symbols := map[string]map[string]readelfSymbol{}
			for _, sym := range readelfSymbols(t, file) {
				if sym.typ != "OBJECT" || sym.sectionName == "" {
					continue
				}
				if symbols[sym.sectionName] == nil {
					symbols[sym.sectionName] = map[string]readelfSymbol{}
				}
				symbols[sym.sectionName][sym.name] = sym
			}
			for typ, err := range spec.Types.All() {
				qt.Assert(t, qt.IsNil(err))
				ds, ok := typ.(*btf.Datasec)
				if !ok || symbols[ds.Name] == nil {
					continue
				}
				var got, want []row
				var size uint64
				for _, vsi := range ds.Vars {
					v, ok := vsi.Type.(*btf.Var)
					if !ok {
						continue
					}
					sym, ok := symbols[ds.Name][v.Name]
					if !ok {
						continue
					}
					got = append(got, row{v.Name, uint64(vsi.Offset), uint64(vsi.Size)})
					want = append(want, row{sym.name, sym.value, sym.size})
					size = sym.sectionSize
				}
				if len(got) > 0 {
					qt.Assert(t, qt.Equals(uint64(ds.Size), size), qt.Commentf("%s: datasec %s", file, ds.Name))
				}
				qt.Assert(t, qt.DeepEquals(got, want), qt.Commentf("%s: datasec %s", file, ds.Name))
				checked += len(got)
			}
		}
	}
	qt.Assert(t, qt.Not(qt.Equals(checked, 0)), qt.Commentf("no datasec variable was checked"))
}
