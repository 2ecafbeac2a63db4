package ebpf

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sysenc"
)

// VariableSpec is a global variable of a BPF object (in .data, .rodata,
// .bss or a custom data section) before loading. Set changes the value the
// variable will have when the collection is loaded; values use the host's
// byte order.
type VariableSpec struct {
	Name string
	// SectionName is the data section that holds the variable.
	SectionName string
	// Offset of the variable within its section.
	Offset uint32
	// Value is the variable's initial value, as bytes.
	Value []byte
	// Type is the variable's BTF, if the object has any.
	Type *btf.Var
}

// Set replaces the variable's value with in, which must be a fixed-size
// value (integers, arrays, structs without pointers), a []byte, or an
// encoding.BinaryMarshaler, of exactly the variable's size. Values use the
// host's byte order. A variable without a value or type takes in's size.
func (s *VariableSpec) Set(in any) error {
	size := int(s.Size())
	if size == 0 {
		if size = binary.Size(in); size <= 0 {
			return fmt.Errorf("variable %s: can't tell the size of %T", s.Name, in)
		}
	}
	buf, err := sysenc.Marshal(in, size)
	if err != nil {
		return fmt.Errorf("variable %s: %w", s.Name, err)
	}
	// The buffer may be a view of in's memory: copy it.
	s.Value = slices.Clone(buf.Bytes())
	return nil
}

// Get decodes the variable's value into out: a pointer to a fixed-size
// value, a slice of the variable's size, or an encoding.BinaryUnmarshaler.
func (s *VariableSpec) Get(out any) error {
	if s.Value == nil {
		return fmt.Errorf("variable %s: no value", s.Name)
	}
	if err := sysenc.Unmarshal(out, s.Value); err != nil {
		return fmt.Errorf("variable %s: %w", s.Name, err)
	}
	return nil
}

// Size of the variable in bytes: the length of its value, or the size of
// its BTF type when it has no value yet.
func (s *VariableSpec) Size() uint32 {
	if s.Value != nil {
		return uint32(len(s.Value))
	}
	if s.Type != nil {
		if size, err := btf.Sizeof(s.Type.Type); err == nil {
			return uint32(size)
		}
	}
	return 0
}

// Constant reports whether the variable lives in a read-only section
// (.rodata or .rodata.*): after loading, it can't be changed.
func (s *VariableSpec) Constant() bool {
	return isConstantDataSection(s.SectionName)
}

// String describes the variable.
func (s *VariableSpec) String() string {
	return fmt.Sprintf("%s (type=%v, section=%s, offset=%d, size=%d)", s.Name, s.Type, s.SectionName, s.Offset, s.Size())
}

// Copy returns a copy whose value may be changed without affecting s. The
// BTF type is shared, since specs treat BTF as read-only.
func (s *VariableSpec) Copy() *VariableSpec {
	if s == nil {
		return nil
	}
	cpy := *s
	cpy.Value = slices.Clone(s.Value)
	return &cpy
}

// isConstantDataSection reports whether the section holds read-only data.
func isConstantDataSection(name string) bool {
	return name == ".rodata" || len(name) > 8 && name[:8] == ".rodata."
}
