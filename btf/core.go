package btf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// CO-RE ("compile once, run everywhere") relocations make a program built
// against one kernel's types work on another: the compiler records, for
// each instruction that depends on a type's layout, which type and which
// field it means; the loader finds the same type in the running kernel's
// BTF and rewrites the instruction. The rules here are libbpf's
// (tools/lib/bpf/relo_core.c), so programs behave the same under both.
//
// This file holds the relocation records and the driver. core_spec.go
// parses and matches access strings, core_compat.go decides which types
// are compatible, core_fixup.go rewrites instructions.

// COREBadRelocationSentinel is the helper number a poisoned instruction
// calls. A relocation that cannot be resolved turns its instruction into
// a call of this non-existent helper: the verifier accepts the program if
// the instruction is dead code and rejects it ("invalid func unknown#195896080")
// otherwise. libbpf uses the same value.
const COREBadRelocationSentinel = 0xbad2310

// coreKind is a relocation kind (enum bpf_core_relo_kind).
type coreKind uint32

func (k coreKind) String() string {
	switch k {
	case coreFieldByteOffset:
		return "byte_off"
	case coreFieldByteSize:
		return "byte_sz"
	case coreFieldExists:
		return "field_exists"
	case coreFieldSigned:
		return "signed"
	case coreFieldLshiftU64:
		return "lshift_u64"
	case coreFieldRshiftU64:
		return "rshift_u64"
	case coreTypeIdLocal:
		return "local_type_id"
	case coreTypeIdTarget:
		return "target_type_id"
	case coreTypeExists:
		return "type_exists"
	case coreTypeMatches:
		return "type_matches"
	case coreTypeSize:
		return "type_size"
	case coreEnumvalExists:
		return "enumval_exists"
	case coreEnumvalValue:
		return "enumval_value"
	}
	return fmt.Sprintf("unknown (%d)", uint32(k))
}

func (k coreKind) fieldBased() bool { return k <= coreFieldRshiftU64 }

func (k coreKind) typeBased() bool {
	switch k {
	case coreTypeIdLocal, coreTypeIdTarget, coreTypeExists, coreTypeMatches, coreTypeSize:
		return true
	}
	return false
}

func (k coreKind) enumBased() bool { return k == coreEnumvalExists || k == coreEnumvalValue }

// coreAccessor is a parsed access string: "0:1:3" is [0 1 3].
type coreAccessor []int

func (ca coreAccessor) String() string {
	var b strings.Builder
	for i, n := range ca {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// CORERelocation is one CO-RE relocation record of a program: what the
// instruction it is attached to reads from which local type.
type CORERelocation struct {
	// typ is the local root type, as the program's BTF has it.
	typ      Type
	accessor coreAccessor
	kind     coreKind
	// id is the local type's ID in the program's BTF.
	id TypeID
}

// String describes the relocation for humans, naming the kind, the local
// type with its ID, the field path and the access string, e.g.
//
//	byte_off of struct task_struct.pid (local type 12, access 0:47)
//
// The loader uses it to explain a verifier error at a poisoned
// instruction.
func (cr *CORERelocation) String() string {
	what := fmt.Sprintf("%s %s", kindWord(cr.typ), cr.typ.TypeName())
	if cr.typ.TypeName() == "" {
		what = fmt.Sprintf("anonymous %s", kindWord(cr.typ))
	}
	if cr.kind.fieldBased() || cr.kind.enumBased() {
		if spec, err := parseCOREAccess(cr.typ, cr.accessor, cr.kind); err == nil {
			what += spec.path()
		}
	}
	return fmt.Sprintf("%s of %s (local type %d, access %s)", cr.kind, what, cr.id, cr.accessor)
}

// kindWord is the C word for a type's kind, for messages.
func kindWord(t Type) string {
	switch v := t.(type) {
	case *Struct:
		return "struct"
	case *Union:
		return "union"
	case *Enum:
		return "enum"
	case *Fwd:
		return v.Kind.String()
	case *Typedef:
		return "typedef"
	case *Int:
		return "int"
	case *Float:
		return "float"
	case *Func:
		return "func"
	}
	return strings.ToLower(kindName(t))
}

var (
	errAmbiguousRelocation  = errors.New("ambiguous relocation")
	errImpossibleRelocation = errors.New("impossible relocation")
	errIncompatibleTypes    = errors.New("incompatible types")
)

// CORERelocate computes how to rewrite the instructions that relos are
// attached to so that they match targets: the kernel's BTF first, then the
// BTF of kernel modules (whose own types are searched). The result has one
// COREFixup per relocation, in order; apply them with COREFixup.Apply.
//
// bo is the byte order of the program (bitfield shifts depend on it).
// resolveLocalTypeID gives the ID a local type will have in the BTF loaded
// with the program; it must return the same ID for the same type.
//
// A relocation that matches no target type is not an error: its fixup
// poisons the instruction (see COREBadRelocationSentinel), except for
// existence checks, which evaluate to zero. Errors are reserved for
// malformed relocations and for ambiguity (candidates that disagree).
func CORERelocate(relos []*CORERelocation, targets []*Spec, bo binary.ByteOrder, resolveLocalTypeID func(Type) (TypeID, error)) ([]COREFixup, error) {
	if len(relos) == 0 {
		return nil, nil
	}
	if len(targets) == 0 {
		return nil, errors.New("CO-RE: no target BTF")
	}
	order, err := orderOf(bo)
	if err != nil {
		return nil, err
	}
	cands := make(map[Type][]coreCandidate)
	fixups := make([]COREFixup, 0, len(relos))
	for i, relo := range relos {
		if relo == nil || relo.typ == nil {
			return nil, fmt.Errorf("CO-RE relocation %d: nil", i)
		}
		if relo.kind == coreTypeIdLocal {
			id, err := resolveLocalTypeID(relo.typ)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", relo, err)
			}
			fixups = append(fixups, COREFixup{kind: relo.kind, local: uint64(id), target: uint64(id), skipLocalValidation: true})
			continue
		}
		cs, ok := cands[relo.typ]
		if !ok {
			if cs, err = findCandidates(relo.typ, targets); err != nil {
				return nil, fmt.Errorf("%s: %w", relo, err)
			}
			cands[relo.typ] = cs
		}
		fixup, err := relocate(relo, cs, order)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", relo, err)
		}
		fixups = append(fixups, fixup)
	}
	return fixups, nil
}

// coreCandidate is a target type that may correspond to a local type.
type coreCandidate struct {
	typ  Type
	id   TypeID
	spec *Spec
}

// findCandidates returns the types of targets with the local type's kind
// and essential name. Like libbpf, it refuses anonymous local types.
func findCandidates(local Type, targets []*Spec) ([]coreCandidate, error) {
	name := local.TypeName()
	if name == "" {
		return nil, errors.New("relocation of an anonymous type is not supported")
	}
	essential := essentialName(name)
	var out []coreCandidate
	for _, spec := range targets {
		var ids []TypeID
		if _, ok := local.(*Func); ok {
			ids = spec.raw.typesByName(classFunc, essential)
		} else {
			ids = spec.raw.typesByEssentialName(essential)
		}
		for _, id := range ids {
			typ, err := spec.TypeByID(id)
			if err != nil {
				return nil, fmt.Errorf("target type %d: %w", id, err)
			}
			if !sameKind(local, typ) || essentialName(typ.TypeName()) != essential {
				continue
			}
			out = append(out, coreCandidate{typ, id, spec})
		}
	}
	return out, nil
}

// sameKind reports whether a and b have the same BTF kind, counting 32-
// and 64-bit enums as one.
func sameKind(a, b Type) bool {
	return kindName(a) == kindName(b)
}

// relocate resolves one relocation against its candidates.
func relocate(relo *CORERelocation, cands []coreCandidate, order byteOrder) (COREFixup, error) {
	local, err := parseCOREAccess(relo.typ, relo.accessor, relo.kind)
	if err != nil {
		return COREFixup{}, fmt.Errorf("parse access string: %w", err)
	}
	local.rootID = relo.id

	var result *COREFixup
	var resultSpec *coreSpec
	for _, cand := range cands {
		target, err := local.match(cand.typ)
		if errors.Is(err, errNoMatch) {
			continue
		}
		if err != nil {
			return COREFixup{}, fmt.Errorf("candidate %s (id %d): %w", cand.typ, cand.id, err)
		}
		target.rootID = cand.id
		fix, err := calcRelocation(relo.kind, local, target, order)
		if err != nil {
			return COREFixup{}, fmt.Errorf("candidate %s (id %d): %w", cand.typ, cand.id, err)
		}
		if result == nil {
			result, resultSpec = &fix, target
			continue
		}
		if relo.kind.fieldBased() && target.bitOffset != resultSpec.bitOffset {
			return COREFixup{}, fmt.Errorf("%w: field offset %d of %s differs from %d of %s",
				errAmbiguousRelocation, target.bitOffset, cand.typ, resultSpec.bitOffset, resultSpec.root)
		}
		if fix.poison != result.poison || fix.target != result.target {
			return COREFixup{}, fmt.Errorf("%w: %s gives %d, %s gives %d",
				errAmbiguousRelocation, cand.typ, fix.target, resultSpec.root, result.target)
		}
	}
	if result == nil {
		// No candidate: existence checks become 0, the rest poison the
		// instruction.
		fix, err := calcRelocation(relo.kind, local, nil, order)
		if err != nil {
			return COREFixup{}, err
		}
		return fix, nil
	}
	return *result, nil
}
