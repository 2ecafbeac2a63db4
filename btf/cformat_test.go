package btf

import (
	"bytes"
	"io"
	"testing"

	"github.com/go-quicktest/qt"
)

// writeC formats types with cf and returns the output.
func writeC(tb testing.TB, cf *CFormatter, types ...Type) string {
	tb.Helper()
	var buf bytes.Buffer
	qt.Assert(tb, qt.IsNil(cf.WriteTypes(&buf, types...)))
	return buf.String()
}

func TestCFormat(t *testing.T) {
	u8 := &Int{Name: "unsigned char", Size: 1}
	u16 := &Int{Name: "short unsigned int", Size: 2}
	u32 := &Int{Name: "unsigned int", Size: 4}
	s32 := &Int{Name: "int", Size: 4, Encoding: Signed}
	u64 := &Int{Name: "long long unsigned int", Size: 8}
	char := &Int{Name: "char", Size: 1, Encoding: Signed}

	// struct a and struct b refer to each other: b embeds a, a points to b.
	a := &Struct{Name: "a", Size: 8}
	b := &Struct{Name: "b", Size: 8, Members: []Member{{Name: "a", Type: a}}}
	a.Members = []Member{{Name: "b", Type: &Pointer{Target: b}}}
	list := &Struct{Name: "list", Size: 8}
	list.Members = []Member{{Name: "next", Type: &Pointer{Target: list}}}

	fnPtr := &Pointer{Target: &FuncProto{Return: s32, Params: []FuncParam{
		{Type: &Pointer{Target: &Const{Type: char}}}, {Type: &Void{}},
	}}}
	arrOfFn := &Array{Index: u32, Type: fnPtr, Nelems: 4}

	tests := []struct {
		name  string
		types []Type
		want  string
	}{
		{"cycle through a pointer", []Type{a, b}, `struct b;

struct a {
	struct b *b;
};

struct b {
	struct a a;
};

`},
		{"self reference", []Type{list}, `struct list {
	struct list *next;
};

`},
		{"typedef of a prototype pointer, arrays, qualifiers", []Type{
			&Typedef{Name: "printf_t", Type: fnPtr},
			&Struct{Name: "ops", Size: 48, Members: []Member{
				{Name: "fns", Type: arrOfFn},
				{Name: "grid", Type: &Array{Index: u32, Type: &Array{Index: u32, Type: u16, Nelems: 2}, Nelems: 3}, Offset: 256},
				{Name: "cv", Type: &Pointer{Target: &Volatile{Type: &Const{Type: u32}}}, Offset: 320},
			}},
		}, `typedef int (*printf_t)(const char *, ...);

struct ops {
	int (*fns[4])(const char *, ...);
	short unsigned int grid[3][2];
	const volatile unsigned int *cv;
};

`},
		{"anonymous members, bitfields, padding", []Type{
			&Struct{Name: "bits", Size: 24, Members: []Member{
				{Name: "x", Type: u32, BitfieldSize: 3},
				{Name: "y", Type: u32, Offset: 8, BitfieldSize: 5},
				{Name: "", Type: &Union{Size: 8, Members: []Member{
					{Name: "u", Type: u64},
					{Name: "s", Type: &Struct{Size: 8, Members: []Member{{Name: "lo", Type: u32}, {Name: "hi", Type: u32, Offset: 32}}}},
				}}, Offset: 64},
				{Name: "c", Type: u8, Offset: 128},
			}},
		}, `struct bits {
	unsigned int x: 3;
	char: 5;
	unsigned int y: 5;
	union {
		long long unsigned int u;
		struct {
			unsigned int lo;
			unsigned int hi;
		} s;
	};
	unsigned char c;
};

`},
		{"packed", []Type{
			&Struct{Name: "packed", Size: 6, Members: []Member{{Name: "s", Type: u16}, {Name: "i", Type: u32, Offset: 16}}},
		}, `struct packed {
	short unsigned int s;
	unsigned int i;
} __attribute__((packed));

`},
		{"enums", []Type{
			&Enum{Name: "sgn", Size: 4, Signed: true, Values: []EnumValue{{"NEG", uint64(^uint64(0))}, {"POS", 5}}},
			&Enum{Name: "big", Size: 8, Values: []EnumValue{{"BIG", 1 << 40}}},
			&Enum{Name: "sbig", Size: 8, Signed: true, Values: []EnumValue{{"SBIG", uint64(0xffffffff00000000)}}},
			&Enum{Name: "tiny", Size: 1, Values: []EnumValue{{"T", 200}}},
			&Enum{Name: "stiny", Size: 1, Signed: true, Values: []EnumValue{{"ST", 1}}},
			&Enum{Name: "wide", Size: 8, Values: []EnumValue{{"W", 1}}},
			&Enum{Name: "swide", Size: 8, Signed: true, Values: []EnumValue{{"SW", 1}}},
			&Enum{Name: "half", Size: 2, Signed: true, Values: []EnumValue{{"H", 1}}},
			&Enum{Name: "fwd", Size: 4},
			&Enum{Size: 4, Values: []EnumValue{{"ANON", 1}, {"T", 2}}},
		}, `enum sgn {
	NEG = -1,
	POS = 5,
};

enum big {
	BIG = 1099511627776ULL,
};

enum sbig {
	SBIG = -4294967296LL,
};

enum tiny : unsigned char {
	T = 200,
};

enum stiny {
	ST = 1,
} __attribute__((mode(byte)));

enum wide : unsigned long long {
	W = 1ULL,
};

enum swide {
	SW = 1LL,
} __attribute__((mode(word)));

enum half : short {
	H = 1,
};

enum fwd;

enum {
	ANON = 1,
	T___2 = 2,
};

`},
		{"duplicate names", []Type{
			&Struct{Name: "dup", Size: 4, Members: []Member{{Name: "a", Type: u32}}},
			&Struct{Name: "dup", Size: 8, Members: []Member{{Name: "b", Type: u64}}},
			&Typedef{Name: "dup_t", Type: u32},
			&Typedef{Name: "dup_t", Type: u64},
		}, `struct dup {
	unsigned int a;
};

struct dup___2 {
	long long unsigned int b;
};

typedef unsigned int dup_t;

typedef long long unsigned int dup_t___2;

`},
		{"tags", []Type{
			&Struct{Name: "tagged", Size: 8, Tags: []string{"s"}, Members: []Member{
				{Name: "p", Type: &Pointer{Target: &TypeTag{Value: "rcu", Type: s32}}, Tags: []string{"m"}},
			}},
			&Typedef{Name: "td", Type: s32, Tags: []string{"t\"q"}},
		}, `struct tagged {
	int __attribute__((btf_type_tag("rcu"))) *p __attribute__((btf_decl_tag("m")));
} __attribute__((btf_decl_tag("s")));

typedef int td __attribute__((btf_decl_tag("t\"q")));

`},
		{"functions and variables", []Type{
			&Func{Name: "f", Linkage: GlobalFunc, Tags: []string{"ft"}, ParamTags: [][]string{{"arg:ctx"}, nil},
				Type: &FuncProto{Return: &Pointer{Target: list}, Params: []FuncParam{{Name: "ctx", Type: &Pointer{Target: &Void{}}}, {Name: "n", Type: u32}}}},
			&Func{Name: "g", Type: &FuncProto{Return: &Void{}}},
			&Var{Name: "v", Type: &Array{Index: u32, Type: a, Nelems: 2}},
		}, `struct list;

extern struct list *f(void *ctx __attribute__((btf_decl_tag("arg:ctx"))), unsigned int n) __attribute__((btf_decl_tag("ft")));

extern void g(void);

struct b;

struct a {
	struct b *b;
};

extern struct a v[2];

`},
		{"builtins", []Type{
			&Typedef{Name: "__builtin_va_list", Type: &Pointer{Target: char}},
			&Typedef{Name: "__gnuc_va_list", Type: &Void{}},
			&Struct{Name: "simd", Size: 1, Members: []Member{{Name: "p", Type: &Int{Name: "__Poly8_t", Size: 1}}}},
		}, `typedef __builtin_va_list __gnuc_va_list;

typedef unsigned char __Poly8_t;

struct simd {
	__Poly8_t p;
};

`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := writeC(t, &CFormatter{}, tt.types...)
			qt.Assert(t, qt.Equals(got, tt.want))
			// The output depends only on the input.
			qt.Assert(t, qt.Equals(writeC(t, &CFormatter{}, tt.types...), got))
		})
	}
}

func TestCFormatHeader(t *testing.T) {
	s32 := &Int{Name: "int", Size: 4, Encoding: Signed}
	kfunc := &Func{Name: "bpf_kf", Linkage: GlobalFunc, Tags: []string{kfuncTag}, Type: &FuncProto{Return: s32, Params: []FuncParam{{Name: "x", Type: s32}}}}
	other := &Func{Name: "other", Linkage: GlobalFunc, Type: &FuncProto{Return: s32}}
	spec := specOf(t, kfunc, other, &Typedef{Name: "s32", Type: s32})

	var buf bytes.Buffer
	cf := CFormatter{Guard: "__VMLINUX_H__", PreserveAccessIndex: true, Kfuncs: true}
	qt.Assert(t, qt.IsNil(cf.WriteSpec(&buf, spec)))
	qt.Assert(t, qt.Equals(buf.String(), `#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

typedef int s32;

#ifndef BPF_NO_KFUNC_PROTOTYPES
#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif

extern int bpf_kf(int x) __attribute__((btf_decl_tag("bpf_kfunc"))) __weak __ksym;

#endif /* BPF_NO_KFUNC_PROTOTYPES */

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
`))

	err := (&CFormatter{Guard: "not a guard"}).WriteSpec(io.Discard, spec)
	qt.Assert(t, qt.ErrorMatches(err, `include guard "not a guard" is not a C identifier`))
}

// Malformed graphs fail with an error instead of recursing without end.
func TestCFormatMalformed(t *testing.T) {
	cyclicTypedef := &Typedef{Name: "loop"}
	cyclicTypedef.Type = cyclicTypedef
	var deep Type = &Int{Name: "int", Size: 4}
	for range 10000 {
		deep = &Const{Type: deep}
	}
	anon := &Struct{Size: 8}
	anon.Members = []Member{{Name: "self", Type: &Pointer{Target: anon}}}
	embedsItself := &Struct{Name: "inf", Size: 8}
	embedsItself.Members = []Member{{Name: "x", Type: embedsItself}}
	proto := &FuncProto{}
	proto.Return = &Pointer{Target: proto}

	for _, typ := range []Type{
		cyclicTypedef,
		&Typedef{Name: "deep", Type: deep},
		&Typedef{Name: "anon", Type: anon},
		embedsItself,
		&Typedef{Name: "fn", Type: proto},
		&Struct{Name: "bad", Members: []Member{{Name: "v", Type: &Var{Name: "v", Type: deep}}}},
	} {
		err := (&CFormatter{}).WriteTypes(io.Discard, typ)
		qt.Check(t, qt.IsNotNil(err), qt.Commentf("%v", typ))
	}
	qt.Check(t, qt.IsNotNil((&CFormatter{}).WriteTypes(io.Discard, nil)))
}

func BenchmarkCFormatVMLinux(b *testing.B) {
	requireVmlinux(b)
	spec, err := LoadSpec(vmlinuxPath)
	qt.Assert(b, qt.IsNil(err))
	b.ReportAllocs()
	for b.Loop() {
		var cf CFormatter
		if err := cf.WriteSpec(io.Discard, spec); err != nil {
			b.Fatal(err)
		}
	}
}
