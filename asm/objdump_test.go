package asm

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

const objdump = "llvm-objdump-19"

// TestObjdump compares the disassembly of every instruction in the test
// objects with llvm-objdump-19's, on operation, registers, offsets and
// immediates. Our text (Instruction.Format) is parsed and rendered in LLVM's
// syntax, then compared with objdump's line without its trailing <symbol>
// comment.
func TestObjdump(t *testing.T) {
	path, err := exec.LookPath(objdump)
	if err != nil {
		t.Skipf("%s is not installed (it comes with Debian's llvm-19; .ci/deps.sh installs it): %v", objdump, err)
	}

	sections := testdataSections(t)
	byFile := make(map[string][]execSection)
	var files []string
	for _, s := range sections {
		if _, ok := byFile[s.file]; !ok {
			files = append(files, s.file)
		}
		byFile[s.file] = append(byFile[s.file], s)
	}

	helpers := make(map[string]int64)
	for v := range 1024 {
		helpers[BuiltinFunc(v).String()] = int64(v)
	}

	compared := 0
	for _, file := range files {
		lines := runObjdump(t, path, "../testdata/"+file)
		for _, sec := range byFile[file] {
			want := lines[sec.name]
			insns, err := AppendInstructions(nil, bytes.NewReader(sec.data), sec.bo, "linux")
			qt.Assert(t, qt.IsNil(err))
			iter := insns.Iterate()
			for iter.Next() {
				where := fmt.Sprintf("%s: section %s: instruction %d", file, sec.name, iter.Offset)
				objText, ok := want[int(iter.Offset)]
				if !ok {
					t.Errorf("%s: objdump has no line", where)
					continue
				}
				delete(want, int(iter.Offset))
				ours := fmt.Sprint(*iter.Ins)
				got, err := renderLLVM(ours, helpers)
				if err != nil {
					t.Errorf("%s: %q: %v (objdump: %q)", where, ours, err, objText)
					continue
				}
				if normalizeLLVM(got) != normalizeLLVM(objText) {
					t.Errorf("%s:\n\tours:    %s\n\tas llvm: %s\n\tobjdump: %s", where, ours, got, objText)
					continue
				}
				compared++
			}
			for off, text := range want {
				t.Errorf("%s: section %s: objdump line %d (%q) has no instruction", file, sec.name, off, text)
			}
		}
	}
	t.Logf("%d instructions agree with %s", compared, objdump)
	qt.Assert(t, qt.Not(qt.Equals(compared, 0)))
}

var (
	objdumpSection = regexp.MustCompile(`^Disassembly of section (.*):$`)
	objdumpInsn    = regexp.MustCompile(`^\s*(\d+):\t(.*)$`)
	objdumpComment = regexp.MustCompile(`\s*<[^<>]*>$`)
)

// runObjdump returns objdump's text of each instruction by section and raw
// offset.
func runObjdump(t *testing.T, path, file string) map[string]map[int]string {
	t.Helper()
	out, err := exec.Command(path, "-d", "--mattr=+alu32", "--no-show-raw-insn", file).Output()
	qt.Assert(t, qt.IsNil(err), qt.Commentf("%s %s", path, file))
	lines := make(map[string]map[int]string)
	var cur map[int]string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := objdumpSection.FindStringSubmatch(line); m != nil {
			cur = make(map[int]string)
			lines[m[1]] = cur
			continue
		}
		if m := objdumpInsn.FindStringSubmatch(line); m != nil && cur != nil {
			n, _ := strconv.Atoi(m[1])
			cur[n] = objdumpComment.ReplaceAllString(strings.TrimSpace(m[2]), "")
		}
	}
	return lines
}

var wideReg = regexp.MustCompile(`\bw(\d+)\b`)

// normalizeLLVM makes the register width of memory operations irrelevant:
// with +alu32 LLVM names the value register of sub-64-bit loads, stores and
// atomics wN, but the width is already in the access size.
func normalizeLLVM(s string) string {
	if strings.Contains(s, "*(") || strings.Contains(s, "xchg") || strings.Contains(s, "atomic_") {
		return wideReg.ReplaceAllString(s, "r$1")
	}
	return s
}

// ourInsn is Instruction.Format's text, parsed.
type ourInsn struct {
	op     string
	name   string // bare word after op (helper name)
	fields map[string]string
}

func parseOurs(s string) (ourInsn, error) {
	s = objdumpComment.ReplaceAllString(s, "")
	toks := strings.Fields(s)
	if len(toks) == 0 {
		return ourInsn{}, fmt.Errorf("empty")
	}
	in := ourInsn{op: toks[0], fields: make(map[string]string)}
	for i := 1; i < len(toks); i++ {
		if key, ok := strings.CutSuffix(toks[i], ":"); ok && i+1 < len(toks) {
			in.fields[key] = toks[i+1]
			i++
			continue
		}
		if in.name != "" {
			return in, fmt.Errorf("unexpected token %q", toks[i])
		}
		in.name = toks[i]
	}
	return in, nil
}

func (in ourInsn) num(key string) (int64, error) {
	v, ok := in.fields[key]
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// llvmReg renders a register; wide selects LLVM's 32-bit name.
func llvmReg(r string, w bool) string {
	if r == "rfp" {
		r = "r10"
	}
	if w {
		return "w" + strings.TrimPrefix(r, "r")
	}
	return r
}

func llvmHex(v int64) string {
	if v < 0 {
		return fmt.Sprintf("-%#x", uint64(-v))
	}
	return fmt.Sprintf("%#x", v)
}

func llvmSigned(v int64) string {
	if v < 0 {
		return llvmHex(v)
	}
	return "+" + llvmHex(v)
}

func llvmMem(base string, off int64) string {
	if off < 0 {
		return fmt.Sprintf("(%s - %#x)", llvmReg(base, false), -off)
	}
	return fmt.Sprintf("(%s + %#x)", llvmReg(base, false), off)
}

var (
	aluOps = map[string]string{
		"Add": "+=", "Sub": "-=", "Mul": "*=", "Div": "/=", "SDiv": "s/=", "Mod": "%=", "SMod": "s%=",
		"Or": "|=", "And": "&=", "LSh": "<<=", "RSh": ">>=", "ArSh": "s>>=", "Xor": "^=", "Mov": "=",
	}
	jumpOps = map[string]string{
		"JEq": "==", "JNE": "!=", "JGT": ">", "JGE": ">=", "JLT": "<", "JLE": "<=", "JSet": "&",
		"JSGT": "s>", "JSGE": "s>=", "JSLT": "s<", "JSLE": "s<=",
	}
	sizeBits = map[string]string{"B": "8", "H": "16", "W": "32", "DW": "64"}
	atomics  = map[string]string{"Add": "+=", "And": "&=", "Or": "|=", "Xor": "^="}

	aluRe   = regexp.MustCompile(`^(Add|Sub|Mul|Div|SDiv|Mod|SMod|Or|And|LSh|RSh|ArSh|Xor|Mov|Neg|MovSX8|MovSX16|MovSX32)(Imm|Reg)(32)?$`)
	swapRe  = regexp.MustCompile(`^(BSwap|SwapLE|SwapBE)(16|32|64)$`)
	memRe   = regexp.MustCompile(`^(LdX|St|StX)(Mem|MemSX)(B|H|W|DW)$`)
	atomRe  = regexp.MustCompile(`^StXAtomic(Add|And|Or|Xor|FetchAdd|FetchAnd|FetchOr|FetchXor|Xchg|CmpXchg)(W|DW)$`)
	pktRe   = regexp.MustCompile(`^Ld(Abs|Ind)(B|H|W)$`)
	jumpRe  = regexp.MustCompile(`^(JEq|JNE|JGT|JGE|JLT|JLE|JSet|JSGT|JSGE|JSLT|JSLE)(32)?(Imm|Reg)$`)
	fetchRe = regexp.MustCompile(`^Fetch(Add|And|Or|Xor)$`)
)

// renderLLVM turns our disassembly into llvm-objdump's syntax.
func renderLLVM(s string, helpers map[string]int64) (string, error) {
	in, err := parseOurs(s)
	if err != nil {
		return "", err
	}
	imm, err := in.num("imm")
	if err != nil {
		return "", err
	}
	off, err := in.num("off")
	if err != nil {
		return "", err
	}
	dst, src := in.fields["dst"], in.fields["src"]

	switch op := in.op; {
	case op == "Exit":
		return "exit", nil
	case op == "LdImmDW":
		return fmt.Sprintf("%s = %s ll", llvmReg(dst, false), llvmHex(imm)), nil
	case op == "AddrSpaceCast":
		das, _ := in.num("dst_as")
		sas, _ := in.num("src_as")
		return fmt.Sprintf("%s = addr_space_cast(%s, %s, %s)", llvmReg(dst, false), llvmReg(src, false), llvmHex(das), llvmHex(sas)), nil
	case op == "Call":
		if in.name != "" {
			n, ok := helpers[in.name]
			if !ok {
				return "", fmt.Errorf("unknown helper %q", in.name)
			}
			return "call " + llvmHex(n), nil
		}
		for _, key := range []string{"pc", "kfunc"} {
			if _, ok := in.fields[key]; ok {
				v, err := in.num(key)
				return "call " + llvmHex(v), err
			}
		}
	case op == "CallReg":
		return "callx " + llvmReg(dst, false), nil
	case op == "Ja":
		return "goto " + llvmSigned(off), nil
	case op == "Ja32":
		return "gotol " + llvmSigned(imm), nil
	case op == "MayGoto":
		return "may_goto " + llvmSigned(off), nil
	}

	if m := aluRe.FindStringSubmatch(in.op); m != nil {
		w := m[3] == "32"
		d := llvmReg(dst, w)
		operand := llvmHex(imm)
		if m[2] == "Reg" {
			operand = llvmReg(src, w)
		}
		switch m[1] {
		case "Neg":
			return fmt.Sprintf("%s = -%s", d, d), nil
		case "MovSX8", "MovSX16", "MovSX32":
			return fmt.Sprintf("%s = (s%s)%s", d, strings.TrimPrefix(m[1], "MovSX"), operand), nil
		}
		return fmt.Sprintf("%s %s %s", d, aluOps[m[1]], operand), nil
	}
	if m := swapRe.FindStringSubmatch(in.op); m != nil {
		kind := map[string]string{"BSwap": "bswap", "SwapLE": "le", "SwapBE": "be"}[m[1]]
		return fmt.Sprintf("%s = %s%s %s", llvmReg(dst, false), kind, m[2], llvmReg(dst, false)), nil
	}
	if m := memRe.FindStringSubmatch(in.op); m != nil {
		bits := sizeBits[m[3]]
		switch {
		case m[1] == "LdX" && m[2] == "Mem":
			return fmt.Sprintf("%s = *(u%s *)%s", llvmReg(dst, false), bits, llvmMem(src, off)), nil
		case m[1] == "LdX":
			return fmt.Sprintf("%s = *(s%s *)%s", llvmReg(dst, false), bits, llvmMem(src, off)), nil
		case m[1] == "StX" && m[2] == "Mem":
			return fmt.Sprintf("*(u%s *)%s = %s", bits, llvmMem(dst, off), llvmReg(src, false)), nil
		case m[1] == "St" && m[2] == "Mem":
			return fmt.Sprintf("*(u%s *)%s = %s", bits, llvmMem(dst, off), llvmHex(imm)), nil
		}
	}
	if m := atomRe.FindStringSubmatch(in.op); m != nil {
		bits := sizeBits[m[2]]
		mem := llvmMem(dst, off)
		s := llvmReg(src, false)
		suffix := "_64"
		if bits == "32" {
			suffix = "32_32"
		}
		if f := fetchRe.FindStringSubmatch(m[1]); f != nil {
			return fmt.Sprintf("%s = atomic_fetch_%s((u%s *)%s, %s)", s, strings.ToLower(f[1]), bits, mem, s), nil
		}
		switch m[1] {
		case "Xchg":
			return fmt.Sprintf("%s = xchg%s(%s, %s)", s, suffix, strings.Trim(mem, "()"), s), nil
		case "CmpXchg":
			return fmt.Sprintf("r0 = cmpxchg%s(%s, r0, %s)", suffix, strings.Trim(mem, "()"), s), nil
		}
		return fmt.Sprintf("lock *(u%s *)%s %s %s", bits, mem, atomics[m[1]], s), nil
	}
	if m := pktRe.FindStringSubmatch(in.op); m != nil {
		bits := sizeBits[m[2]]
		if m[1] == "Abs" {
			return fmt.Sprintf("r0 = *(u%s *)skb[%s]", bits, llvmHex(imm)), nil
		}
		return fmt.Sprintf("r0 = *(u%s *)skb[%s]", bits, llvmReg(src, false)), nil
	}
	if m := jumpRe.FindStringSubmatch(in.op); m != nil {
		w := m[2] == "32"
		operand := llvmHex(imm)
		if m[3] == "Reg" {
			operand = llvmReg(src, w)
		}
		return fmt.Sprintf("if %s %s %s goto %s", llvmReg(dst, w), jumpOps[m[1]], operand, llvmSigned(off)), nil
	}
	return "", fmt.Errorf("no LLVM rendering for %q", in.op)
}
