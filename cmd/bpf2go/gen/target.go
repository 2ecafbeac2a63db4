package gen

import (
	"errors"
	"fmt"
	"go/build/constraint"
	"maps"
	"runtime"
	"slices"
)

// ErrInvalidTarget is returned by FindTarget for a name that is neither a
// generic BPF target nor a Go architecture bpf2go knows.
var ErrInvalidTarget = errors.New("unsupported target")

// Target is what clang compiles for: a generic BPF target of one byte order,
// optionally specialised for the kernel of one architecture (which defines
// __TARGET_ARCH_<linux>, so that libbpf's bpf_tracing.h knows the layout of
// struct pt_regs).
type Target struct {
	// clang's -target: bpf, bpfel or bpfeb.
	clang string
	// The kernel's name for the architecture (arch/<linux> in its tree),
	// empty for generic BPF.
	linux string
}

// GoArch is a GOARCH value.
type GoArch string

// GoArches is a set of GOARCH values, sorted.
type GoArches []GoArch

// The Go architectures bpf2go compiles for, with the byte order of their BPF
// and the kernel's name for them. An architecture without a kernel name
// (the MIPS ports share one but differ in pt_regs handling, wasm has no
// kernel) can only use the generic targets.
var targetsByGoArch = map[GoArch]Target{
	"386":      {"bpfel", "x86"},
	"amd64":    {"bpfel", "x86"},
	"arm":      {"bpfel", "arm"},
	"arm64":    {"bpfel", "arm64"},
	"loong64":  {"bpfel", "loongarch"},
	"mips":     {"bpfeb", "mips"},
	"mipsle":   {"bpfel", ""},
	"mips64":   {"bpfeb", ""},
	"mips64le": {"bpfel", ""},
	"ppc64":    {"bpfeb", "powerpc"},
	"ppc64le":  {"bpfel", "powerpc"},
	"riscv64":  {"bpfel", "riscv"},
	"s390x":    {"bpfeb", "s390"},
	"wasm":     {"bpfel", ""},
}

// TargetsByGoArch returns a copy of the table of Go architectures and their
// targets.
func TargetsByGoArch() map[GoArch]Target {
	return maps.Clone(targetsByGoArch)
}

// IsGeneric reports whether the target compiles generic BPF, with no
// architecture-specific definitions.
func (tgt *Target) IsGeneric() bool {
	return tgt.linux == ""
}

// Clang returns clang's name of the target (bpf, bpfel or bpfeb).
func (tgt *Target) Clang() string {
	if tgt.clang == "" {
		return "bpf"
	}
	return tgt.clang
}

// Linux returns the kernel's name of the target's architecture, empty for
// generic BPF.
func (tgt *Target) Linux() string {
	return tgt.linux
}

// Suffix names the target in output file names: "bpfel", or "x86_bpfel"
// for an architecture. It never has the form of a GOOS or GOARCH suffix,
// which the go command would read as a build constraint.
func (tgt *Target) Suffix() string {
	if tgt.linux == "" {
		return tgt.Clang()
	}
	return tgt.linux + "_" + tgt.Clang()
}

// ObsoleteSuffix is the suffix older releases of bpf2go gave architecture
// targets ("bpfel_x86"); bpf2go removes such files when it writes the new
// ones. Empty for generic targets.
func (tgt *Target) ObsoleteSuffix() string {
	if tgt.linux == "" {
		return ""
	}
	return tgt.Clang() + "_" + tgt.linux
}

// Constraint returns the build constraint "arch1 || arch2 ...", nil for no
// architectures.
func (arches GoArches) Constraint() constraint.Expr {
	var expr constraint.Expr
	for _, arch := range arches {
		tag := &constraint.TagExpr{Tag: string(arch)}
		if expr == nil {
			expr = tag
		} else {
			expr = &constraint.OrExpr{X: expr, Y: tag}
		}
	}
	return expr
}

// FindTarget returns the target called id and the Go architectures whose
// builds should embed what it compiles:
//
//   - bpfel, bpfeb: generic BPF of one byte order, for every architecture
//     of that byte order;
//   - bpf: generic BPF in the byte order of the machine running clang, for
//     no architecture in particular (no build constraint);
//   - a GOARCH (amd64, arm64, ...) or native (the GOARCH bpf2go runs as):
//     BPF with __TARGET_ARCH_<arch> defined, for every GOARCH sharing the
//     kernel architecture and byte order (386 and amd64, for example).
func FindTarget(id string) (Target, GoArches, error) {
	switch id {
	case "bpf", "bpfel", "bpfeb":
		var arches GoArches
		for arch, tgt := range targetsByGoArch {
			if tgt.clang == id {
				arches = append(arches, arch)
			}
		}
		slices.Sort(arches)
		return Target{clang: id}, arches, nil
	case "native":
		id = runtime.GOARCH
	}
	tgt, ok := targetsByGoArch[GoArch(id)]
	if !ok || tgt.linux == "" {
		return Target{}, nil, fmt.Errorf("%q: %w", id, ErrInvalidTarget)
	}
	var arches GoArches
	for arch, other := range targetsByGoArch {
		if other == tgt {
			arches = append(arches, arch)
		}
	}
	slices.Sort(arches)
	return tgt, arches, nil
}

// TargetNames lists the names FindTarget accepts, generic targets first,
// then the architectures in order ("native" is not listed).
func TargetNames() []string {
	names := []string{"bpf", "bpfel", "bpfeb"}
	var arches []string
	for arch, tgt := range targetsByGoArch {
		if !tgt.IsGeneric() {
			arches = append(arches, string(arch))
		}
	}
	slices.Sort(arches)
	return append(names, arches...)
}
