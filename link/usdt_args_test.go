package link

import (
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
)

// arg builds an expected parse result.
func arg(spec string, size uint8, signed bool, kind USDTArgKind, value int64, reg string, regOff uint16) usdtArg {
	return usdtArg{USDTArg: USDTArg{Spec: spec, Size: size, Signed: signed, Kind: kind, Value: value, Register: reg}, regOff: regOff}
}

func indexed(spec string, size uint8, signed bool, value int64, base string, baseOff uint16, idx string, idxOff uint16, scale uint8) usdtArg {
	a := arg(spec, size, signed, USDTArgIndexed, value, base, baseOff)
	a.Index, a.idxOff, a.Scale = idx, idxOff, scale
	return a
}

func TestParseUSDTArgs(t *testing.T) {
	type tc struct {
		spec string
		want []usdtArg
	}
	for _, arch := range []struct {
		machine elf.Machine
		cases   []tc
	}{
		{elf.EM_X86_64, []tc{
			{"", nil},
			{"-4@$-9", []usdtArg{arg("-4@$-9", 4, true, USDTArgConst, -9, "", 0)}},
			{"8@$0x10", []usdtArg{arg("8@$0x10", 8, false, USDTArgConst, 16, "", 0)}},
			{"8@%rax", []usdtArg{arg("8@%rax", 8, false, USDTArgRegister, 0, "rax", 80)}},
			{"-4@%edi", []usdtArg{arg("-4@%edi", 4, true, USDTArgRegister, 0, "edi", 112)}},
			{"2@%r8w", []usdtArg{arg("2@%r8w", 2, false, USDTArgRegister, 0, "r8w", 72)}},
			{"-1@%sil", []usdtArg{arg("-1@%sil", 1, true, USDTArgRegister, 0, "sil", 104)}},
			{"8@%rip", []usdtArg{arg("8@%rip", 8, false, USDTArgRegister, 0, "rip", 128)}},
			{"-4@-1204(%rbp)", []usdtArg{arg("-4@-1204(%rbp)", 4, true, USDTArgMemory, -1204, "rbp", 32)}},
			{"8@(%rsp)", []usdtArg{arg("8@(%rsp)", 8, false, USDTArgMemory, 0, "rsp", 152)}},
			{"-4@16(%rdi,%rsi,4)", []usdtArg{indexed("-4@16(%rdi,%rsi,4)", 4, true, 16, "rdi", 112, "rsi", 104, 4)}},
			{"1@(%rbp,%rax)", []usdtArg{indexed("1@(%rbp,%rax)", 1, false, 0, "rbp", 32, "rax", 80, 1)}},
			{"8@-96(%r15,%r12,8)", []usdtArg{indexed("8@-96(%r15,%r12,8)", 8, false, -96, "r15", 0, "r12", 24, 8)}},
			// libbpf's own example note, twelve arguments.
			{"-4@-1204(%rbp) -4@%edi -8@-1216(%rbp) -8@%r8 -4@$5 -8@%r9 8@%rdx 8@%r10 -4@$-9 -2@%cx -2@%ax -1@%sil", []usdtArg{
				arg("-4@-1204(%rbp)", 4, true, USDTArgMemory, -1204, "rbp", 32),
				arg("-4@%edi", 4, true, USDTArgRegister, 0, "edi", 112),
				arg("-8@-1216(%rbp)", 8, true, USDTArgMemory, -1216, "rbp", 32),
				arg("-8@%r8", 8, true, USDTArgRegister, 0, "r8", 72),
				arg("-4@$5", 4, true, USDTArgConst, 5, "", 0),
				arg("-8@%r9", 8, true, USDTArgRegister, 0, "r9", 64),
				arg("8@%rdx", 8, false, USDTArgRegister, 0, "rdx", 96),
				arg("8@%r10", 8, false, USDTArgRegister, 0, "r10", 56),
				arg("-4@$-9", 4, true, USDTArgConst, -9, "", 0),
				arg("-2@%cx", 2, true, USDTArgRegister, 0, "cx", 88),
				arg("-2@%ax", 2, true, USDTArgRegister, 0, "ax", 80),
				arg("-1@%sil", 1, true, USDTArgRegister, 0, "sil", 104),
			}},
		}},
		{elf.EM_AARCH64, []tc{
			{"-4@[sp, 96]", []usdtArg{arg("-4@[sp, 96]", 4, true, USDTArgMemory, 96, "sp", 248)}},
			{"8@[x29, -8]", []usdtArg{arg("8@[x29, -8]", 8, false, USDTArgMemory, -8, "x29", 232)}},
			{"-4@[x0]", []usdtArg{arg("-4@[x0]", 4, true, USDTArgMemory, 0, "x0", 0)}},
			{"4@[sp, #16]", []usdtArg{arg("4@[sp, #16]", 4, false, USDTArgMemory, 16, "sp", 248)}},
			{"8@x1", []usdtArg{arg("8@x1", 8, false, USDTArgRegister, 0, "x1", 8)}},
			{"-8@x30", []usdtArg{arg("-8@x30", 8, true, USDTArgRegister, 0, "x30", 240)}},
			{"-4@w3", []usdtArg{arg("-4@w3", 4, true, USDTArgRegister, 0, "w3", 24)}},
			{"4@5", []usdtArg{arg("4@5", 4, false, USDTArgConst, 5, "", 0)}},
			{"-4@-5", []usdtArg{arg("-4@-5", 4, true, USDTArgConst, -5, "", 0)}},
			{"-4@[sp, 96] 8@x1 4@#7", []usdtArg{
				arg("-4@[sp, 96]", 4, true, USDTArgMemory, 96, "sp", 248),
				arg("8@x1", 8, false, USDTArgRegister, 0, "x1", 8),
				arg("4@#7", 4, false, USDTArgConst, 7, "", 0),
			}},
		}},
		{elf.EM_S390, []tc{
			{"-2@-28(%r15)", []usdtArg{arg("-2@-28(%r15)", 2, true, USDTArgMemory, -28, "r15", 144)}},
			{"8@160(%r11)", []usdtArg{arg("8@160(%r11)", 8, false, USDTArgMemory, 160, "r11", 112)}},
			{"8@(%r2)", []usdtArg{arg("8@(%r2)", 8, false, USDTArgMemory, 0, "r2", 40)}},
			{"-8@%r0", []usdtArg{arg("-8@%r0", 8, true, USDTArgRegister, 0, "r0", 24)}},
			{"4@%r15", []usdtArg{arg("4@%r15", 4, false, USDTArgRegister, 0, "r15", 144)}},
			{"4@71", []usdtArg{arg("4@71", 4, false, USDTArgConst, 71, "", 0)}},
			{"-8@-1 1@%r3", []usdtArg{
				arg("-8@-1", 8, true, USDTArgConst, -1, "", 0),
				arg("1@%r3", 1, false, USDTArgRegister, 0, "r3", 48),
			}},
		}},
	} {
		for _, c := range arch.cases {
			t.Run(arch.machine.String()+"/"+c.spec, func(t *testing.T) {
				got, err := parseUSDTArgs(arch.machine, c.spec)
				qt.Assert(t, qt.IsNil(err))
				qt.Assert(t, qt.CmpEquals(got, c.want, cmp.AllowUnexported(usdtArg{})))
			})
		}
	}
}

func TestParseUSDTArgsErrors(t *testing.T) {
	for _, c := range []struct {
		machine elf.Machine
		spec    string
		err     string
	}{
		{elf.EM_X86_64, "%rax", `argument 0 "%rax": no SIZE@ prefix`},
		{elf.EM_X86_64, "3@%rax", `argument 0 "3@%rax": size 3 is not 1, 2, 4 or 8`},
		{elf.EM_X86_64, "x@%rax", `argument 0 "x@%rax": size "x" is not a number`},
		{elf.EM_X86_64, "8@", `argument 0 "8@": no location after '@'`},
		{elf.EM_X86_64, "8@%rax 4@%xyz", `argument 1 "4@%xyz": x86-64: unknown register %xyz`},
		{elf.EM_X86_64, "1@%ah", `argument 0 "1@%ah": x86-64: unknown register %ah`},
		{elf.EM_X86_64, "8@counter(%rip)", `argument 0 "8@counter\(%rip\)": x86-64: displacement: "counter" is not a number \(symbolic operands are not supported\)`},
		{elf.EM_X86_64, "8@(%rax,%rbx,3)", `argument 0 "8@\(%rax,%rbx,3\)": x86-64: scale "3" is not 1, 2, 4 or 8`},
		{elf.EM_X86_64, "8@(%rax,%rbx,2,1)", `argument 0 .*: x86-64: .* has more than base, index and scale`},
		{elf.EM_X86_64, "8@$", `argument 0 "8@\$": x86-64: "" is not a number.*`},
		{elf.EM_X86_64, "8@rax", `argument 0 "8@rax": x86-64: "rax" is neither .*`},
		{elf.EM_X86_64, strings.Repeat("8@%rax ", 13), `more than 12 arguments in .*`},
		{elf.EM_X86_64, "8@$99999999999999999999", `argument 0 .*: x86-64: "99999999999999999999" is not a number`},
		{elf.EM_AARCH64, "8@x31", `argument 0 "8@x31": arm64: unknown register "x31"`},
		{elf.EM_AARCH64, "8@[sp, 96", `argument 0 "8@\[sp, 96": arm64: "\[sp, 96": no closing '\]'`},
		{elf.EM_AARCH64, "8@[q0]", `argument 0 "8@\[q0\]": arm64: unknown register "q0"`},
		{elf.EM_AARCH64, "8@#", `argument 0 "8@#": arm64: "#" is not an operand`},
		{elf.EM_AARCH64, "8@[sp, x]", `argument 0 .*: arm64: offset: "x" is not a number.*`},
		{elf.EM_S390, "8@%r16", `argument 0 "8@%r16": s390x: unknown register "%r16"`},
		{elf.EM_S390, "8@8(%x1)", `argument 0 .*: s390x: unknown register "%x1"`},
		{elf.EM_S390, "8@8(%r1", `argument 0 .*: s390x: "8\(%r1": no closing '\)'`},
		{elf.EM_PPC64, "8@%r1", `USDT arguments of EM_PPC64 binaries: not supported`},
	} {
		t.Run(c.machine.String()+"/"+c.spec, func(t *testing.T) {
			_, err := parseUSDTArgs(c.machine, c.spec)
			qt.Assert(t, qt.ErrorMatches(err, c.err))
		})
	}
}

// TestMarshalUSDTSpec checks the spec map's value byte for byte, in both
// byte orders, against the layout of struct __bpf_usdt_spec.
func TestMarshalUSDTSpec(t *testing.T) {
	args, err := parseUSDTArgs(elf.EM_X86_64, "-4@$-9 8@%rdi 2@-24(%rbp) -4@16(%rdi,%rsi,4)")
	qt.Assert(t, qt.IsNil(err))
	for _, c := range []struct {
		bo   binary.ByteOrder
		want []string // 16 bytes per argument, then cookie and count
	}{
		{binary.LittleEndian, []string{
			"f7ffffffffffffff" + "00000000" + "0000" + "01" + "20",
			"0000000000000000" + "01000000" + "7000" + "00" + "00",
			"e8ffffffffffffff" + "02000000" + "2000" + "00" + "30",
			// kind 3 | rsi (104) << 8 | log2(4) << 20
			"1000000000000000" + "03682000" + "7000" + "01" + "20",
		}},
		{binary.BigEndian, []string{
			"fffffffffffffff7" + "00000000" + "0000" + "01" + "20",
			"0000000000000000" + "00000001" + "0070" + "00" + "00",
			"ffffffffffffffe8" + "00000002" + "0020" + "00" + "30",
			// kind 3 | log2(4) << 8 | rsi (104) << 12
			"0000000000000010" + "00068203" + "0070" + "01" + "20",
		}},
	} {
		got := marshalUSDTSpec(args, 0x1122334455667788, c.bo)
		qt.Assert(t, qt.HasLen(got, 208))
		for i, w := range c.want {
			qt.Assert(t, qt.Equals(hex.EncodeToString(got[16*i:16*i+16]), w), qt.Commentf("%s argument %d", c.bo, i))
		}
		qt.Assert(t, qt.IsTrue(allZero(got[64:192])))
		qt.Assert(t, qt.Equals(c.bo.Uint64(got[192:]), 0x1122334455667788))
		qt.Assert(t, qt.Equals(c.bo.Uint16(got[200:]), 4))
		qt.Assert(t, qt.IsTrue(allZero(got[202:])))
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
