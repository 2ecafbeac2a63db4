// Command genasm writes the generated parts of package asm from
// internal/cmd/uapi/bpf-uapi.h:
//
//   - uapi_gen.go: the kernel's instruction encoding constants (classes,
//     sizes, modes, operations, pseudo sources, atomic operations) as
//     unexported constants named exactly like the kernel's macros, so that
//     the hand-written exported constants of asm take their values from the
//     header and never from a number typed by hand;
//   - func_gen.go: one BuiltinFunc constant per member of enum bpf_func_id,
//     named Fn + the CamelCase of the kernel name (bpf_map_lookup_elem ->
//     FnMapLookupElem), and BuiltinFunc.String.
//
// Usage: genasm HEADER OUTDIR
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// encodingDefines are the #define constants of the instruction encoding that
// package asm uses, in the order they are emitted.
var encodingDefines = []string{
	// Instruction classes.
	"BPF_LD", "BPF_LDX", "BPF_ST", "BPF_STX", "BPF_ALU", "BPF_JMP", "BPF_JMP32", "BPF_ALU64",
	// Sizes of loads and stores.
	"BPF_W", "BPF_H", "BPF_B", "BPF_DW",
	// Modes of loads and stores.
	"BPF_IMM", "BPF_ABS", "BPF_IND", "BPF_MEM", "BPF_MEMSX", "BPF_ATOMIC",
	// Operand source, and the byte swap direction that shares its bit.
	"BPF_K", "BPF_X", "BPF_TO_LE", "BPF_TO_BE",
	// ALU operations.
	"BPF_ADD", "BPF_SUB", "BPF_MUL", "BPF_DIV", "BPF_OR", "BPF_AND", "BPF_LSH", "BPF_RSH",
	"BPF_NEG", "BPF_MOD", "BPF_XOR", "BPF_MOV", "BPF_ARSH", "BPF_END",
	// Jump operations.
	"BPF_JA", "BPF_JEQ", "BPF_JGT", "BPF_JGE", "BPF_JSET", "BPF_JNE", "BPF_JSGT", "BPF_JSGE",
	"BPF_CALL", "BPF_EXIT", "BPF_JLT", "BPF_JLE", "BPF_JSLT", "BPF_JSLE", "BPF_JCOND",
	// Atomic operations (the imm field of BPF_STX | BPF_ATOMIC).
	"BPF_FETCH", "BPF_XCHG", "BPF_CMPXCHG", "BPF_LOAD_ACQ", "BPF_STORE_REL",
	// Pseudo sources of ldimm64 and calls.
	"BPF_PSEUDO_MAP_FD", "BPF_PSEUDO_MAP_VALUE", "BPF_PSEUDO_BTF_ID", "BPF_PSEUDO_FUNC",
	"BPF_PSEUDO_MAP_IDX", "BPF_PSEUDO_MAP_IDX_VALUE", "BPF_PSEUDO_CALL", "BPF_PSEUDO_KFUNC_CALL",
	// Enumerators used like macros.
	"BPF_MAY_GOTO", "BPF_ADDR_SPACE_CAST",
	// Length of a program tag.
	"BPF_TAG_SIZE",
}

// derivedDefines are macros linux/bpf.h defines as expressions of other
// macros, which extract.sh does not copy into the header. They are computed
// from the header's values with the kernel's own formula; a header that
// carries them wins.
var derivedDefines = map[string]func(v map[string]int64) (int64, bool){
	// #define BPF_XCHG (0xe0 | BPF_FETCH)
	"BPF_XCHG": func(v map[string]int64) (int64, bool) {
		f, ok := v["BPF_FETCH"]
		return 0xe0 | f, ok
	},
	// #define BPF_CMPXCHG (0xf0 | BPF_FETCH)
	"BPF_CMPXCHG": func(v map[string]int64) (int64, bool) {
		f, ok := v["BPF_FETCH"]
		return 0xf0 | f, ok
	},
}

var (
	defineLine     = regexp.MustCompile(`^#define\s+([A-Za-z0-9_]+)\s+(0x[0-9a-fA-F]+|\d+)U?\s*$`)
	shiftLine      = regexp.MustCompile(`^#define\s+([A-Za-z0-9_]+)\s+\((\d+)U? << (\d+)\)\s*$`)
	enumHeader     = regexp.MustCompile(`^enum ([A-Za-z0-9_]*) ?\{$`)
	enumeratorLine = regexp.MustCompile(`^\s+([A-Za-z0-9_]+) = (-?\d+)U?L?L?,$`)
)

// enumerator is one member of a C enum.
type enumerator struct {
	name  string
	value int64
}

// header is what genasm reads from bpf-uapi.h.
type header struct {
	values map[string]int64        // #defines and enumerators by name
	enums  map[string][]enumerator // named enums in declaration order
}

func parseHeader(data []byte) (*header, error) {
	h := &header{values: make(map[string]int64), enums: make(map[string][]enumerator)}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	var enum string
	inEnum := false
	for sc.Scan() {
		line := sc.Text()
		if m := enumHeader.FindStringSubmatch(line); m != nil {
			enum, inEnum = m[1], true
			continue
		}
		if inEnum {
			if strings.HasPrefix(line, "};") {
				inEnum = false
				continue
			}
			m := enumeratorLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			v, err := strconv.ParseInt(m[2], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("enum %s: %s: %w", enum, m[1], err)
			}
			if _, dup := h.values[m[1]]; !dup {
				h.values[m[1]] = v
			}
			if enum != "" {
				h.enums[enum] = append(h.enums[enum], enumerator{m[1], v})
			}
			continue
		}
		if m := defineLine.FindStringSubmatch(line); m != nil {
			v, err := strconv.ParseInt(m[2], 0, 64)
			if err != nil {
				return nil, fmt.Errorf("#define %s: %w", m[1], err)
			}
			h.values[m[1]] = v
		} else if m := shiftLine.FindStringSubmatch(line); m != nil {
			a, _ := strconv.ParseInt(m[2], 10, 64)
			b, _ := strconv.ParseInt(m[3], 10, 64)
			h.values[m[1]] = a << b
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for name, derive := range derivedDefines {
		if _, ok := h.values[name]; ok {
			continue
		}
		if v, ok := derive(h.values); ok {
			h.values[name] = v
		}
	}
	return h, nil
}

// camel turns a kernel helper name (map_lookup_elem) into its Go spelling
// (MapLookupElem): every underscore-separated word gets an upper-case
// first letter.
func camel(s string) string {
	var b strings.Builder
	for _, w := range strings.Split(s, "_") {
		if w == "" {
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]))
		b.WriteString(w[1:])
	}
	return b.String()
}

const generatedBy = "// Code generated by internal/cmd/genasm from internal/cmd/uapi/bpf-uapi.h. DO NOT EDIT.\n\n"

// GenerateUAPI returns the contents of asm/uapi_gen.go.
func GenerateUAPI(data []byte) ([]byte, error) {
	h, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(generatedBy)
	buf.WriteString("package asm\n\n")
	buf.WriteString("// The kernel's instruction encoding constants, spelled like its macros.\n")
	buf.WriteString("const (\n")
	for _, name := range encodingDefines {
		v, ok := h.values[name]
		if !ok {
			return nil, fmt.Errorf("header lacks %s", name)
		}
		fmt.Fprintf(&buf, "\t_%s = %#x\n", name, v)
	}
	buf.WriteString(")\n")
	return format.Source(buf.Bytes())
}

// GenerateFuncs returns the contents of asm/func_gen.go.
func GenerateFuncs(data []byte) ([]byte, error) {
	h, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	members := h.enums["bpf_func_id"]
	if len(members) == 0 {
		return nil, fmt.Errorf("header lacks enum bpf_func_id")
	}

	type fn struct {
		goName, kernelName string
		value              int64
	}
	var fns []fn
	seen := make(map[string]bool)
	for _, m := range members {
		kernel, ok := strings.CutPrefix(m.name, "BPF_FUNC_")
		if !ok {
			// __BPF_FUNC_MAX_ID and anything else that is not a helper.
			continue
		}
		goName := "Fn" + camel(kernel)
		if seen[goName] {
			return nil, fmt.Errorf("helpers %s: Go name %s is taken twice", m.name, goName)
		}
		seen[goName] = true
		fns = append(fns, fn{goName, kernel, m.value})
	}

	var buf bytes.Buffer
	buf.WriteString(generatedBy)
	buf.WriteString("package asm\n\n")
	buf.WriteString("// Helpers of the kernel's enum bpf_func_id. Each comment names the C helper\n")
	buf.WriteString("// the constant stands for.\n")
	buf.WriteString("const (\n")
	for _, f := range fns {
		fmt.Fprintf(&buf, "\t%s BuiltinFunc = %d // bpf_%s\n", f.goName, f.value, f.kernelName)
	}
	buf.WriteString(")\n\n")

	// One string holding every name, sliced by an offset table: String
	// allocates nothing and the table costs a few bytes per helper.
	var names strings.Builder
	offsets := make([]int, 0, len(fns)+1)
	maxValue := int64(-1)
	for _, f := range fns {
		maxValue = max(maxValue, f.value)
	}
	byValue := make(map[int64]string, len(fns))
	for _, f := range fns {
		byValue[f.value] = f.goName
	}
	for v := int64(0); v <= maxValue; v++ {
		offsets = append(offsets, names.Len())
		names.WriteString(byValue[v])
	}
	offsets = append(offsets, names.Len())

	fmt.Fprintf(&buf, "const builtinFuncNames = %q\n\n", names.String())
	buf.WriteString("var builtinFuncIndex = [...]uint16{")
	for i, o := range offsets {
		if i%12 == 0 {
			buf.WriteString("\n\t")
		} else {
			buf.WriteString(" ")
		}
		fmt.Fprintf(&buf, "%d,", o)
	}
	buf.WriteString("\n}\n\n")
	buf.WriteString(`// String returns the Go name of the helper, like "FnMapLookupElem", or
// BuiltinFunc(N) for a number the header does not know. It does not allocate
// for known helpers.
func (fn BuiltinFunc) String() string {
	if uint64(fn) + 1 < uint64(len(builtinFuncIndex)) {
		if name := builtinFuncNames[builtinFuncIndex[fn]:builtinFuncIndex[fn+1]]; name != "" {
			return name
		}
	}
	return "BuiltinFunc(" + strconv.FormatInt(int64(fn), 10) + ")"
}
`)
	out := buf.Bytes()
	out = bytes.Replace(out, []byte("package asm\n\n"), []byte("package asm\n\nimport \"strconv\"\n\n"), 1)
	return format.Source(out)
}

// Outputs maps each generated file name to its generator.
var Outputs = map[string]func([]byte) ([]byte, error){
	"uapi_gen.go": GenerateUAPI,
	"func_gen.go": GenerateFuncs,
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: genasm HEADER OUTDIR")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "genasm:", err)
		os.Exit(1)
	}
	for _, name := range []string{"uapi_gen.go", "func_gen.go"} {
		out, err := Outputs[name](data)
		if err != nil {
			fmt.Fprintf(os.Stderr, "genasm: %s: %v\n", name, err)
			os.Exit(1)
		}
		if err := os.WriteFile(filepath.Join(os.Args[2], name), out, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "genasm:", err)
			os.Exit(1)
		}
	}
}
