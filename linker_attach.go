package ebpf

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// attachTargetKind says where the kernel looks for the attach target of a
// program type and attach type, as BTF: the name of the type that
// represents a target called AttachTo, its kind, and the kallsyms symbol
// that tells which module defines it.
type attachTargetKind struct {
	what   string // for messages: "fentry", "LSM hook", ...
	prefix string // of the BTF type's name
	symbol string // prefix of the kallsyms symbol
	typed  bool   // a typedef (tp_btf), not a function
}

func attachTargetKindOf(typ ProgramType, attach AttachType) (attachTargetKind, bool) {
	switch {
	case typ == Tracing && attach == AttachTraceFEntry:
		return attachTargetKind{what: "fentry"}, true
	case typ == Tracing && attach == AttachTraceFExit:
		return attachTargetKind{what: "fexit"}, true
	case typ == Tracing && attach == AttachModifyReturn:
		return attachTargetKind{what: "fmod_ret"}, true
	case typ == Tracing && attach == AttachTraceRawTp:
		return attachTargetKind{what: "tp_btf", prefix: "btf_trace_", symbol: "__bpf_trace_", typed: true}, true
	case typ == Tracing && attach == AttachTraceIter:
		return attachTargetKind{what: "iterator", prefix: "bpf_iter_", symbol: "bpf_iter_"}, true
	case typ == LSM && (attach == AttachLSMMac || attach == AttachLSMCgroup):
		return attachTargetKind{what: "LSM hook", prefix: "bpf_lsm_", symbol: "bpf_lsm_"}, true
	}
	return attachTargetKind{}, false
}

// resolveAttachTarget finds the BTF ID the kernel wants for the attach
// target of tracing, LSM, iterator, extension and struct_ops programs, and
// sets attr's attach_btf_id and, for a target in a module or in another
// program, attach_btf_obj_fd / attach_prog_fd. Other programs are left
// alone: their AttachTo is for the link, not for loading.
//
// A target the kernel lacks gives an error wrapping ErrNotSupported that
// names it. Handles of module BTF are kept in kt until the load is done.
func resolveAttachTarget(spec *ProgramSpec, attr *sys.ProgLoadAttr, kt *kernelTypes) error {
	if spec.AttachTarget != nil {
		return resolveProgramTarget(spec, attr)
	}
	if spec.AttachTo == "" {
		return nil
	}
	if spec.Type == StructOps {
		return resolveStructOpsTarget(spec, attr, kt)
	}

	kind, ok := attachTargetKindOf(spec.Type, spec.AttachType)
	if !ok {
		return nil
	}
	module, name, explicit := strings.Cut(spec.AttachTo, ":")
	if !explicit {
		module, name = "", spec.AttachTo
	}
	what := fmt.Sprintf("%s %s", kind.what, spec.AttachTo)

	var target btf.Type
	var (
		found    *btf.Spec
		inModule string
		err      error
	)
	typeName := kind.prefix + name
	if kind.typed {
		var td *btf.Typedef
		found, inModule, err = kt.findIn(module, typeName, kind.symbol+name, &td)
		target = td
	} else {
		var fn *btf.Func
		found, inModule, err = kt.findIn(module, typeName, kind.symbol+name, &fn)
		target = fn
	}
	switch {
	case errors.Is(err, btf.ErrNotFound):
		return fmt.Errorf("attach target: %w", &internal.UnsupportedFeatureError{
			Name: fmt.Sprintf("%s (no %s in the kernel's BTF)", what, typeName),
		})
	case errors.Is(err, btf.ErrMultipleMatches):
		return fmt.Errorf("attach target %s: the kernel has several, which one is ambiguous: %w", what, err)
	case err != nil:
		return fmt.Errorf("attach target %s: %w", what, err)
	}

	id, err := found.TypeID(target)
	if err != nil {
		return fmt.Errorf("attach target %s: %w", what, err)
	}
	attr.AttachBtfId = uint32(id)
	if inModule != "" {
		h, err := kt.handle(inModule)
		if err != nil {
			return fmt.Errorf("attach target %s: %w", what, err)
		}
		attr.AttachProgFd = uint32(h.FD()) // attach_btf_obj_fd
	}
	return nil
}

// resolveProgramTarget finds AttachTo among the functions of the program
// an extension (freplace) or a tracing program attaches to, in that
// program's BTF.
func resolveProgramTarget(spec *ProgramSpec, attr *sys.ProgLoadAttr) error {
	target := spec.AttachTarget
	if spec.AttachTo == "" {
		return fmt.Errorf("attach target program %s: AttachTo names no function", target)
	}
	h, err := target.Handle()
	if err != nil {
		return fmt.Errorf("attach target program %s: %w", target, err)
	}
	defer h.Close()
	types, err := h.Spec(nil)
	if err != nil {
		return fmt.Errorf("attach target program %s: %w", target, err)
	}
	var fn *btf.Func
	if err := types.TypeByName(spec.AttachTo, &fn); err != nil {
		return fmt.Errorf("attach target program %s: function %q: %w", target, spec.AttachTo, err)
	}
	id, err := types.TypeID(fn)
	if err != nil {
		return fmt.Errorf("attach target program %s: function %q: %w", target, spec.AttachTo, err)
	}
	attr.AttachBtfId = uint32(id)
	attr.AttachProgFd = target.fd.Uint()
	return nil
}

// resolveStructOpsTarget points a struct_ops program, whose AttachTo is
// "struct:member" (tcp_congestion_ops:ssthresh), at the kernel's struct:
// attach_btf_id is the struct's ID, the expected attach type the index of
// the member (Linux 5.6).
func resolveStructOpsTarget(spec *ProgramSpec, attr *sys.ProgLoadAttr, kt *kernelTypes) error {
	structName, member, ok := strings.Cut(spec.AttachTo, ":")
	if !ok || member == "" {
		return fmt.Errorf("struct_ops: AttachTo %q is not struct:member", spec.AttachTo)
	}
	var st *btf.Struct
	found, module, err := kt.findIn("", structName, "", &st)
	if errors.Is(err, btf.ErrNotFound) {
		return fmt.Errorf("struct_ops: %w", &internal.UnsupportedFeatureError{
			Name: fmt.Sprintf("struct_ops %s (not in the kernel's BTF)", structName),
		})
	}
	if err != nil {
		return fmt.Errorf("struct_ops %s: %w", structName, err)
	}
	idx := slices.IndexFunc(st.Members, func(m btf.Member) bool { return m.Name == member })
	if idx < 0 {
		return fmt.Errorf("struct_ops %s: no member %q", structName, member)
	}
	id, err := found.TypeID(st)
	if err != nil {
		return fmt.Errorf("struct_ops %s: %w", structName, err)
	}
	attr.AttachBtfId = uint32(id)
	attr.ExpectedAttachType = sys.AttachType(idx)
	if module != "" {
		h, err := kt.handle(module)
		if err != nil {
			return fmt.Errorf("struct_ops %s: %w", structName, err)
		}
		attr.AttachProgFd = uint32(h.FD())
	}
	return nil
}
