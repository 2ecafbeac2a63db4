package gen

import (
	"bytes"
	"go/build/constraint"
	"runtime"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/btf"
)

func TestFindTarget(t *testing.T) {
	native := GoArches(nil)
	if tgt, ok := targetsByGoArch[GoArch(runtime.GOARCH)]; ok && !tgt.IsGeneric() {
		_, native, _ = FindTarget(runtime.GOARCH)
	}
	for _, tt := range []struct {
		id                    string
		suffix, clang, linux  string
		arches                GoArches
		constraint, obsoleted string
	}{
		{"bpf", "bpf", "bpf", "", nil, "", ""},
		{"bpfel", "bpfel", "bpfel", "", GoArches{"386", "amd64", "arm", "arm64", "loong64", "mips64le", "mipsle", "ppc64le", "riscv64", "wasm"},
			"386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm", ""},
		{"bpfeb", "bpfeb", "bpfeb", "", GoArches{"mips", "mips64", "ppc64", "s390x"}, "mips || mips64 || ppc64 || s390x", ""},
		{"amd64", "x86_bpfel", "bpfel", "x86", GoArches{"386", "amd64"}, "386 || amd64", "bpfel_x86"},
		{"386", "x86_bpfel", "bpfel", "x86", GoArches{"386", "amd64"}, "386 || amd64", "bpfel_x86"},
		{"arm64", "arm64_bpfel", "bpfel", "arm64", GoArches{"arm64"}, "arm64", "bpfel_arm64"},
		{"ppc64", "powerpc_bpfeb", "bpfeb", "powerpc", GoArches{"ppc64"}, "ppc64", "bpfeb_powerpc"},
		{"ppc64le", "powerpc_bpfel", "bpfel", "powerpc", GoArches{"ppc64le"}, "ppc64le", "bpfel_powerpc"},
		{"s390x", "s390_bpfeb", "bpfeb", "s390", GoArches{"s390x"}, "s390x", "bpfeb_s390"},
		{"mips", "mips_bpfeb", "bpfeb", "mips", GoArches{"mips"}, "mips", "bpfeb_mips"},
		{"loong64", "loongarch_bpfel", "bpfel", "loongarch", GoArches{"loong64"}, "loong64", "bpfel_loongarch"},
		{"riscv64", "riscv_bpfel", "bpfel", "riscv", GoArches{"riscv64"}, "riscv64", "bpfel_riscv"},
	} {
		tgt, arches, err := FindTarget(tt.id)
		qt.Assert(t, qt.IsNil(err), qt.Commentf(tt.id))
		qt.Check(t, qt.Equals(tgt.Suffix(), tt.suffix), qt.Commentf(tt.id))
		qt.Check(t, qt.Equals(tgt.Clang(), tt.clang))
		qt.Check(t, qt.Equals(tgt.Linux(), tt.linux))
		qt.Check(t, qt.Equals(tgt.IsGeneric(), tt.linux == ""))
		qt.Check(t, qt.Equals(tgt.ObsoleteSuffix(), tt.obsoleted))
		qt.Check(t, qt.DeepEquals(arches, tt.arches), qt.Commentf(tt.id))
		var got string
		if c := arches.Constraint(); c != nil {
			got = c.String()
		}
		qt.Check(t, qt.Equals(got, tt.constraint))
	}
	for _, bad := range []string{"", "mipsle", "mips64", "wasm", "sparc", "x86"} {
		_, _, err := FindTarget(bad)
		qt.Check(t, qt.ErrorIs(err, ErrInvalidTarget), qt.Commentf("%q", bad))
	}
	if native != nil {
		_, arches, err := FindTarget("native")
		qt.Assert(t, qt.IsNil(err))
		qt.Check(t, qt.DeepEquals(arches, native))
	}
}

func TestIdentifier(t *testing.T) {
	// Outputs of cilium/ebpf's bpf2go for the same names.
	for in, want := range map[string]string{
		"kprobe_map":    "KprobeMap",
		"__u32":         "U32",
		"EV_EXEC":       "EV_EXEC",
		"KIND_PACKET":   "KIND_PACKET",
		"a_1":           "A_1",
		"ab_1":          "Ab1",
		"x1_y":          "X1Y",
		"foo.bar":       "Foobar",
		"_pad_":         "Pad",
		"FOO_bar":       "FOO_bar",
		"tcp__rtt":      "TcpRtt",
		"sched_ext_ops": "SchedExtOps",
		"CamelCase":     "CamelCase",
		"":              "",
	} {
		qt.Check(t, qt.Equals(Identifier(in), want), qt.Commentf("%q", in))
	}
}

func TestGenerateErrors(t *testing.T) {
	good := func() GenerateArgs {
		return GenerateArgs{Package: "p", Stem: "bpf", ObjectFile: "bpf_bpfel.o", Output: new(bytes.Buffer)}
	}
	for _, tt := range []struct {
		edit func(*GenerateArgs)
		want string
	}{
		{func(a *GenerateArgs) { a.Stem = "1x" }, `stem "1x" is not a Go identifier`},
		{func(a *GenerateArgs) { a.Package = "a-b" }, `package "a-b" is not a Go identifier`},
		{func(a *GenerateArgs) { a.ObjectFile = "a\nb.o" }, `object file name .* can't be embedded`},
		{func(a *GenerateArgs) { a.Maps = []string{"foo_bar", "fooBar"} }, `maps "fooBar" and "foo_bar" both become the Go name FooBar`},
		{func(a *GenerateArgs) { a.Programs = []string{"___"} }, `program "___": "" is not a Go identifier`},
		{func(a *GenerateArgs) {
			a.Types = []btf.Type{&btf.Struct{Name: "ab_c"}, &btf.Struct{Name: "ab__c"}}
		}, `types .* both become the Go type bpfAbC .*`},
		{func(a *GenerateArgs) { a.Types = []btf.Type{&btf.Datasec{Name: ".data"}} }, `type .*: data sections are not declared as Go types`},
		{func(a *GenerateArgs) { a.Types = []btf.Type{&btf.Func{Name: "f", Type: &btf.FuncProto{}}} }, `declare bpfF: .*`},
	} {
		args := good()
		tt.edit(&args)
		qt.Check(t, qt.ErrorMatches(Generate(args), tt.want))
	}
}

func TestGenerateTypes(t *testing.T) {
	u32 := &btf.Int{Name: "u32", Size: 4}
	enum := &btf.Enum{Name: "state", Size: 4, Values: []btf.EnumValue{{Name: "ST_ON", Value: 1}}}
	s := &btf.Struct{Name: "pair", Size: 8, Members: []btf.Member{{Name: "left", Type: u32}, {Name: "st", Type: enum, Offset: 32}}}
	alias := &btf.Typedef{Name: "pair_t", Type: s}
	u := &btf.Union{Name: "either", Size: 4, Members: []btf.Member{{Name: "x", Type: u32}}}
	var out bytes.Buffer
	tags, _ := constraint.Parse("//go:build linux")
	err := Generate(GenerateArgs{
		Package: "p", Stem: "Obj", Constraints: tags, ObjectFile: "obj_bpf.o", Output: &out,
		Types: []btf.Type{alias, s, enum, u, s},
		Maps:  []string{"m"}, Programs: []string{"p"}, Variables: []string{"v"},
	})
	qt.Assert(t, qt.IsNil(err))
	src := out.String()
	for _, want := range []string{
		"//go:build linux\n\npackage p\n",
		"\t\"structs\"\n",
		"type ObjEither struct {\n\t_ structs.HostLayout\n\tX uint32\n}\n",
		"type ObjPair struct {\n\t_    structs.HostLayout\n\tLeft uint32\n\tSt   ObjState\n}\n",
		"type ObjPairT ObjPair\n",
		"type ObjState uint32\n\nconst (\n\tObjStateST_ON ObjState = 1\n)\n",
		"\tObjMapM  = \"m\"\n\tObjProgP = \"p\"\n\tObjVarV  = \"v\"\n",
		"func LoadObj() (*ebpf.CollectionSpec, error) {",
		"func LoadObjObjects(obj any, opts *ebpf.CollectionOptions) error {",
		"bytes.NewReader(_ObjBytes)",
		"func _ObjClose(closers ...io.Closer) error {",
		"//go:embed obj_bpf.o\nvar _ObjBytes []byte\n",
	} {
		qt.Check(t, qt.StringContains(src, want))
	}
	qt.Check(t, qt.Equals(strings.Count(src, "type ObjPair struct"), 1))
}

func TestCollectGlobalTypes(t *testing.T) {
	u32 := &btf.Int{Name: "u32", Size: 4}
	st := &btf.Struct{Name: "val", Size: 4, Members: []btf.Member{{Name: "v", Type: u32}}}
	anon := &btf.Typedef{Name: "anon_t", Type: &btf.Struct{Size: 4, Members: []btf.Member{{Name: "a", Type: u32}}}}
	enum := &btf.Enum{Name: "e", Size: 4}
	un := &btf.Union{Name: "u", Size: 4, Members: []btf.Member{{Name: "x", Type: u32}}}
	spec := &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			"a": {Key: u32, Value: &btf.Const{Type: st}},
			"b": {Key: enum, Value: anon},
			"c": {Key: &btf.Array{Type: u32, Nelems: 2}},
		},
		Variables: map[string]*ebpf.VariableSpec{
			"x": {Type: &btf.Var{Name: "x", Type: &btf.Volatile{Type: &btf.Array{Type: un, Nelems: 2}}}},
			"y": {Type: &btf.Var{Name: "y", Type: &btf.Pointer{Target: st}}},
			"z": {Type: &btf.Var{Name: "z", Type: st}},
			"w": {},
		},
	}
	got := CollectGlobalTypes(spec)
	qt.Assert(t, qt.DeepEquals(got, []btf.Type{anon, enum, un, st}))
}
