package link

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A USDT note describes each argument as "SIZE@LOCATION": SIZE is the
// argument's width in bytes (1, 2, 4 or 8), negative for a signed value,
// and LOCATION is an assembler operand of the probed instruction's
// architecture ("-4@%edi", "8@-24(%rbp)" on x86-64; "8@[sp, 16]" on arm64;
// "-8@160(%r15)" on s390x). The parsers below turn each into what libbpf's
// usdt.bpf.h reads at run time: a constant, a register's offset in the
// architecture's struct pt_regs, or memory at such a register plus an
// offset (x86 adds base + index*scale + offset).

// USDTArgKind says where a USDT argument's value is.
type USDTArgKind uint8

// The argument kinds. Their numbers are those of libbpf's enum
// __bpf_usdt_arg_type.
const (
	// USDTArgConst is a constant: Value.
	USDTArgConst USDTArgKind = iota
	// USDTArgRegister is the content of Register.
	USDTArgRegister
	// USDTArgMemory is in memory at Register plus Value.
	USDTArgMemory
	// USDTArgIndexed is in memory at Register + Index*Scale + Value
	// (x86's scale-index-base operands). usdt.bpf.h before libbpf 1.7
	// returns -EINVAL for them.
	USDTArgIndexed
)

func (k USDTArgKind) String() string {
	switch k {
	case USDTArgConst:
		return "constant"
	case USDTArgRegister:
		return "register"
	case USDTArgMemory:
		return "memory"
	case USDTArgIndexed:
		return "indexed memory"
	}
	return fmt.Sprintf("USDTArgKind(%d)", uint8(k))
}

// USDTArg is one argument of a USDT probe site.
type USDTArg struct {
	// Spec is the argument as the note writes it: "-4@-20(%rbp)".
	Spec string
	// Size in bytes: 1, 2, 4 or 8.
	Size uint8
	// Signed values are sign-extended to 64 bits, others zero-extended.
	Signed bool
	Kind   USDTArgKind
	// Value is the constant, or the memory operand's displacement.
	Value int64
	// Register holds the value or the memory address, as the note names
	// it ("rbp", "x29", "r15").
	Register string
	// Index and Scale complete an indexed memory operand.
	Index string
	Scale uint8
}

// usdtMaxArgs is the number of arguments usdt.bpf.h's spec holds
// (BPF_USDT_MAX_ARG_CNT).
const usdtMaxArgs = 12

// usdtArg is an argument ready to be written into the spec map: USDTArg
// plus the pt_regs offsets of its registers.
type usdtArg struct {
	USDTArg
	regOff, idxOff uint16
}

// usdtArch is an architecture whose argument syntax we read: its ELF
// machine, its name, and how it names registers.
type usdtArch struct {
	machine elf.Machine
	name    string
	// location parses LOCATION into a.
	location func(loc string, a *usdtArg) error
}

var usdtArches = []usdtArch{
	{elf.EM_X86_64, "x86-64", x86Location},
	{elf.EM_AARCH64, "arm64", arm64Location},
	{elf.EM_S390, "s390x", s390xLocation},
}

func usdtArchOf(m elf.Machine) (*usdtArch, error) {
	for i := range usdtArches {
		if usdtArches[i].machine == m {
			return &usdtArches[i], nil
		}
	}
	return nil, fmt.Errorf("USDT arguments of %s binaries: %w", m, ErrNotSupported)
}

// parseUSDTArgs parses a note's argument string for the architecture of
// machine. An empty string is a probe without arguments.
func parseUSDTArgs(machine elf.Machine, spec string) ([]usdtArg, error) {
	arch, err := usdtArchOf(machine)
	if err != nil {
		return nil, err
	}
	var args []usdtArg
	rest := spec
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			return args, nil
		}
		if len(args) == usdtMaxArgs {
			return nil, fmt.Errorf("more than %d arguments in %q", usdtMaxArgs, spec)
		}
		var tok string
		tok, rest = cutUSDTArg(rest)
		a, err := parseUSDTArg(arch, tok)
		if err != nil {
			return nil, fmt.Errorf("argument %d %q: %w", len(args), tok, err)
		}
		args = append(args, a)
	}
}

// cutUSDTArg splits off the first argument: it ends at a blank outside
// brackets and parentheses ("8@[sp, 16]" is one argument).
func cutUSDTArg(s string) (arg, rest string) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case ' ', '\t':
			if depth <= 0 {
				return s[:i], s[i:]
			}
		}
	}
	return s, ""
}

func parseUSDTArg(arch *usdtArch, tok string) (usdtArg, error) {
	a := usdtArg{USDTArg: USDTArg{Spec: tok}}
	size, loc, ok := strings.Cut(tok, "@")
	if !ok {
		return a, errors.New("no SIZE@ prefix")
	}
	n, err := strconv.Atoi(strings.TrimSpace(size))
	if err != nil {
		return a, fmt.Errorf("size %q is not a number", size)
	}
	if n < 0 {
		a.Signed = true
		n = -n
	}
	switch n {
	case 1, 2, 4, 8:
		a.Size = uint8(n)
	default:
		return a, fmt.Errorf("size %d is not 1, 2, 4 or 8", n)
	}
	loc = strings.TrimSpace(loc)
	if loc == "" {
		return a, errors.New("no location after '@'")
	}
	if err := arch.location(loc, &a); err != nil {
		return a, fmt.Errorf("%s: %w", arch.name, err)
	}
	return a, nil
}

// parseUSDTInt reads a decimal or 0x-prefixed hexadecimal integer with an
// optional sign, as assemblers print displacements and immediates.
func parseUSDTInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, fmt.Errorf("%q is not a number (symbolic operands are not supported)", s)
	}
	base := 10
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		base, s = 16, s[2:]
	}
	u, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// x86-64: offsets of the registers in struct pt_regs
// (arch/x86/include/uapi/asm/ptrace.h), each with its 64, 32, 16 and
// 8-bit names. A narrower name reads the same slot; the argument's size
// truncates it.
var x86Regs = map[string]uint16{}

func init() {
	for _, r := range []struct {
		off   uint16
		names []string
	}{
		{0, []string{"r15", "r15d", "r15w", "r15b"}},
		{8, []string{"r14", "r14d", "r14w", "r14b"}},
		{16, []string{"r13", "r13d", "r13w", "r13b"}},
		{24, []string{"r12", "r12d", "r12w", "r12b"}},
		{32, []string{"rbp", "ebp", "bp", "bpl"}},
		{40, []string{"rbx", "ebx", "bx", "bl"}},
		{48, []string{"r11", "r11d", "r11w", "r11b"}},
		{56, []string{"r10", "r10d", "r10w", "r10b"}},
		{64, []string{"r9", "r9d", "r9w", "r9b"}},
		{72, []string{"r8", "r8d", "r8w", "r8b"}},
		{80, []string{"rax", "eax", "ax", "al"}},
		{88, []string{"rcx", "ecx", "cx", "cl"}},
		{96, []string{"rdx", "edx", "dx", "dl"}},
		{104, []string{"rsi", "esi", "si", "sil"}},
		{112, []string{"rdi", "edi", "di", "dil"}},
		{128, []string{"rip", "eip"}},
		{152, []string{"rsp", "esp", "sp", "spl"}},
	} {
		for _, n := range r.names {
			x86Regs[n] = r.off
		}
	}
}

func x86Reg(operand string) (string, uint16, error) {
	name, ok := strings.CutPrefix(strings.TrimSpace(operand), "%")
	if !ok {
		return "", 0, fmt.Errorf("%q is not a register", operand)
	}
	off, ok := x86Regs[name]
	if !ok {
		return "", 0, fmt.Errorf("unknown register %%%s", name)
	}
	return name, off, nil
}

// x86Location parses "$imm", "%reg", "disp(%base)" and
// "disp(%base,%index,scale)" (disp and scale optional).
func x86Location(loc string, a *usdtArg) error {
	switch loc[0] {
	case '$':
		v, err := parseUSDTInt(loc[1:])
		if err != nil {
			return err
		}
		a.Kind, a.Value = USDTArgConst, v
		return nil
	case '%':
		name, off, err := x86Reg(loc)
		if err != nil {
			return err
		}
		a.Kind, a.Register, a.regOff = USDTArgRegister, name, off
		return nil
	}
	open := strings.IndexByte(loc, '(')
	if open < 0 || !strings.HasSuffix(loc, ")") {
		return fmt.Errorf("%q is neither $constant, %%register nor disp(%%register)", loc)
	}
	if disp := strings.TrimSpace(loc[:open]); disp != "" {
		v, err := parseUSDTInt(disp)
		if err != nil {
			return fmt.Errorf("displacement: %w", err)
		}
		a.Value = v
	}
	parts := strings.Split(loc[open+1:len(loc)-1], ",")
	if len(parts) > 3 {
		return fmt.Errorf("%q has more than base, index and scale", loc)
	}
	name, off, err := x86Reg(parts[0])
	if err != nil {
		return fmt.Errorf("base: %w", err)
	}
	a.Kind, a.Register, a.regOff = USDTArgMemory, name, off
	if len(parts) == 1 {
		return nil
	}
	name, off, err = x86Reg(parts[1])
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	a.Kind, a.Index, a.idxOff, a.Scale = USDTArgIndexed, name, off, 1
	if len(parts) == 3 {
		s, err := strconv.Atoi(strings.TrimSpace(parts[2]))
		if err != nil || (s != 1 && s != 2 && s != 4 && s != 8) {
			return fmt.Errorf("scale %q is not 1, 2, 4 or 8", parts[2])
		}
		a.Scale = uint8(s)
	}
	return nil
}

// arm64: struct user_pt_regs (arch/arm64/include/uapi/asm/ptrace.h) is
// regs[31], then sp. wN is the low half of xN.
func arm64Reg(operand string) (string, uint16, error) {
	name := strings.TrimSpace(operand)
	if name == "sp" {
		return name, 31 * 8, nil
	}
	if len(name) > 1 && (name[0] == 'x' || name[0] == 'w') {
		if n, err := strconv.ParseUint(name[1:], 10, 8); err == nil && n <= 30 {
			return name, uint16(n) * 8, nil
		}
	}
	return "", 0, fmt.Errorf("unknown register %q", name)
}

// arm64Location parses "imm", "reg", "[reg]" and "[reg, imm]" ('#' before
// an immediate is allowed).
func arm64Location(loc string, a *usdtArg) error {
	if inner, ok := strings.CutPrefix(loc, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		if !ok {
			return fmt.Errorf("%q: no closing ']'", loc)
		}
		reg, disp, hasDisp := strings.Cut(inner, ",")
		name, off, err := arm64Reg(reg)
		if err != nil {
			return err
		}
		a.Kind, a.Register, a.regOff = USDTArgMemory, name, off
		if hasDisp {
			v, err := parseUSDTInt(strings.TrimPrefix(strings.TrimSpace(disp), "#"))
			if err != nil {
				return fmt.Errorf("offset: %w", err)
			}
			a.Value = v
		}
		return nil
	}
	imm := strings.TrimPrefix(loc, "#")
	if imm == "" {
		return fmt.Errorf("%q is not an operand", loc)
	}
	if c := imm[0]; c == '-' || c == '+' || c >= '0' && c <= '9' {
		v, err := parseUSDTInt(imm)
		if err != nil {
			return err
		}
		a.Kind, a.Value = USDTArgConst, v
		return nil
	}
	name, off, err := arm64Reg(loc)
	if err != nil {
		return err
	}
	a.Kind, a.Register, a.regOff = USDTArgRegister, name, off
	return nil
}

// s390x: user_pt_regs (arch/s390/include/uapi/asm/ptrace.h) is args[1],
// the PSW (mask, address), then gprs[16].
func s390xReg(operand string) (string, uint16, error) {
	name, ok := strings.CutPrefix(strings.TrimSpace(operand), "%")
	if ok && len(name) > 1 && name[0] == 'r' {
		if n, err := strconv.ParseUint(name[1:], 10, 8); err == nil && n <= 15 {
			return name, 24 + uint16(n)*8, nil
		}
	}
	return "", 0, fmt.Errorf("unknown register %q", operand)
}

// s390xLocation parses "imm", "%rN", "disp(%rN)" and "(%rN)".
func s390xLocation(loc string, a *usdtArg) error {
	if strings.HasPrefix(loc, "%") {
		name, off, err := s390xReg(loc)
		if err != nil {
			return err
		}
		a.Kind, a.Register, a.regOff = USDTArgRegister, name, off
		return nil
	}
	open := strings.IndexByte(loc, '(')
	if open < 0 {
		v, err := parseUSDTInt(loc)
		if err != nil {
			return err
		}
		a.Kind, a.Value = USDTArgConst, v
		return nil
	}
	if !strings.HasSuffix(loc, ")") {
		return fmt.Errorf("%q: no closing ')'", loc)
	}
	if disp := strings.TrimSpace(loc[:open]); disp != "" {
		v, err := parseUSDTInt(disp)
		if err != nil {
			return fmt.Errorf("displacement: %w", err)
		}
		a.Value = v
	}
	name, off, err := s390xReg(loc[open+1 : len(loc)-1])
	if err != nil {
		return err
	}
	a.Kind, a.Register, a.regOff = USDTArgMemory, name, off
	return nil
}

// The value of libbpf's spec map (struct __bpf_usdt_spec): 12 argument
// specs of 16 bytes, the USDT cookie, the argument count.
//
//	struct __bpf_usdt_arg_spec {
//		__u64 val_off;    // constant, or memory displacement
//		__u32 kind_word;  // arg_type; libbpf 1.7 packs idx_reg_off:12 and
//		                  // scale_bitshift:4 beside it (bit-fields)
//		short reg_off;    // offset of the register in pt_regs
//		bool  arg_signed;
//		char  arg_bitshift; // 64 - 8*size
//	};
const (
	usdtArgSpecSize  = 16
	usdtCookieOffset = usdtMaxArgs * usdtArgSpecSize
	usdtArgCntOffset = usdtCookieOffset + 8
	// usdtSpecSize is sizeof(struct __bpf_usdt_spec), padded to 8.
	usdtSpecSize = usdtArgCntOffset + 8
)

// marshalUSDTSpec encodes args and the USDT cookie as the spec map's
// value, in byte order bo (the kernel's).
func marshalUSDTSpec(args []usdtArg, cookie uint64, bo binary.ByteOrder) []byte {
	buf := make([]byte, usdtSpecSize)
	for i, a := range args {
		b := buf[i*usdtArgSpecSize:]
		bo.PutUint64(b[0:], uint64(a.Value))
		bo.PutUint32(b[8:], usdtKindWord(a, bo))
		bo.PutUint16(b[12:], a.regOff)
		if a.Signed {
			b[14] = 1
		}
		b[15] = 64 - 8*a.Size
	}
	bo.PutUint64(buf[usdtCookieOffset:], cookie)
	bo.PutUint16(buf[usdtArgCntOffset:], uint16(len(args)))
	return buf
}

// usdtKindWord packs the argument kind with, for indexed operands, the
// index register's pt_regs offset (12 bits) and the scale's log2 (4 bits),
// as libbpf 1.7 describes its arg_type:8, idx_reg_off:12,
// scale_bitshift:4 fields: from the low bits up on a little-endian
// machine; on a big-endian one the kind in the low 8 bits, the scale
// above it, then the index. A plain enum (usdt.bpf.h before 1.7) reads
// the kind either way. (gcc and clang start a 12-bit __u16 field that
// would straddle a 16-bit boundary at the next one, so libbpf 1.7's
// declaration may grow its arg spec to 24 bytes; the spec map's value
// size is checked, and any size but 208 is refused rather than misread.)
func usdtKindWord(a usdtArg, bo binary.ByteOrder) uint32 {
	w := uint32(a.Kind)
	if a.Kind != USDTArgIndexed {
		return w
	}
	var shift uint32
	for s := a.Scale; s > 1; s >>= 1 {
		shift++
	}
	idx := uint32(a.idxOff) & 0xfff
	if bo.Uint16([]byte{0, 1}) == 1 { // big endian
		return w | shift<<8 | idx<<12
	}
	return w | idx<<8 | shift<<20
}
