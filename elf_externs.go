package ebpf

import (
	"debug/elf"
	"errors"
	"fmt"

	"github.com/bpfkit/ebpf/btf"
	"golang.org/x/sys/unix"
)

// Externs are symbols the object uses but does not define. libbpf's
// conventions place them in two BTF-only datasecs (the ELF has no such
// sections):
//
//   - .kconfig: values of the running kernel's configuration (CONFIG_*)
//     and LINUX_KERNEL_VERSION, read by programs from a read-only array
//     map that the loader fills in;
//   - .ksyms: kernel functions (kfuncs) and kernel variables, whose BTF IDs
//     or addresses the loader finds in the kernel.
//
// The reader marks each instruction that uses an extern with metadata (the
// keys below) for the loader to resolve.

// kconfigMetaKey marks a load from the .kconfig map; the value is a
// *kconfigMeta.
type kconfigMetaKey struct{}

type kconfigMeta struct {
	// Map is the .kconfig map, shared by every instruction that uses it.
	Map *MapSpec
	// Offset of the variable in the map's value.
	Offset uint32
	// Binding is STB_WEAK for weak externs, which may be missing from the
	// kernel's configuration (their value is then zero).
	Binding elf.SymBind
}

// kfuncMetaKey marks a call of a kfunc, or a load of its address; the
// value is a *kfuncMeta.
type kfuncMetaKey struct{}

type kfuncMeta struct {
	// Binding is STB_WEAK for weak kfuncs, which may be missing from the
	// kernel: calls are then poisoned and address loads are zero.
	Binding elf.SymBind
	// Func is the kfunc's declaration in the object's BTF.
	Func *btf.Func
}

// ksymMetaKey marks a load of the address of a kernel variable; the value
// is a *ksymMeta.
type ksymMetaKey struct{}

type ksymMeta struct {
	// Binding is STB_WEAK for weak variables, whose address is zero if the
	// kernel lacks them.
	Binding elf.SymBind
	// Name of the kernel symbol.
	Name string
	// Type is the variable's BTF type. Void (under qualifiers, see
	// btf.UnderlyingType) means a typeless ksym (extern const void sym
	// __ksym), whose address comes from kallsyms; a typed ksym is resolved
	// by BTF ID (BPF_PSEUDO_BTF_ID).
	Type btf.Type
}

// loadExterns reads the .kconfig and .ksyms datasecs, once. Only programs
// refer to externs, so objects without undefined symbols never look.
func (r *elfReader) loadExterns() error {
	if r.externsLoaded {
		return nil
	}
	r.externsLoaded = true
	ds, err := r.datasec(".kconfig", -1)
	if err != nil {
		return err
	}
	if ds != nil {
		if err := layoutKconfig(ds); err != nil {
			return fmt.Errorf("section \".kconfig\": %w", err)
		}
		r.kconfig = &MapSpec{
			Name:       ".kconfig",
			Type:       Array,
			KeySize:    4,
			ValueSize:  ds.Size,
			MaxEntries: 1,
			Flags:      unix.BPF_F_RDONLY_PROG,
			Key:        &btf.Int{Size: 4},
			Value:      ds,
		}
	}

	ds, err = r.datasec(".ksyms", -1)
	if err != nil {
		return err
	}
	if ds != nil {
		for _, vsi := range ds.Vars {
			switch vsi.Type.(type) {
			case *btf.Func, *btf.Var:
			default:
				return fmt.Errorf("section \".ksyms\": %s is neither a function nor a variable", vsi.Type)
			}
		}
		r.ksyms = ds
	}
	return nil
}

// layoutKconfig places the variables of the .kconfig datasec, which the
// compiler leaves at offset 0 in a datasec of size 0: one after the other
// in declaration order, each at its natural alignment. Their linkage
// becomes global: the kernel refuses extern variables in BTF.
func layoutKconfig(ds *btf.Datasec) error {
	if ds.Size != 0 {
		return nil
	}
	var off uint64
	for i := range ds.Vars {
		vsi := &ds.Vars[i]
		v, ok := vsi.Type.(*btf.Var)
		if !ok {
			return fmt.Errorf("%s is not a variable", vsi.Type)
		}
		size, err := btf.Sizeof(v.Type)
		if err != nil {
			return fmt.Errorf("variable %q: %w", v.Name, err)
		}
		align, err := btfAlignof(v.Type, 0)
		if err != nil {
			return fmt.Errorf("variable %q: %w", v.Name, err)
		}
		off = (off + align - 1) / align * align
		if off+uint64(size) > 1<<32-1 {
			return fmt.Errorf("variable %q: too large", v.Name)
		}
		vsi.Offset, vsi.Size = uint32(off), uint32(size)
		off += uint64(size)
		v.Linkage = btf.GlobalVar
	}
	if off == 0 {
		return errors.New("no variables")
	}
	ds.Size = uint32(off)
	return nil
}

// btfAlignof returns the alignment of typ in bytes, as the compiler lays
// it out for the BPF target.
func btfAlignof(typ btf.Type, depth int) (uint64, error) {
	if depth > 32 {
		return 0, errors.New("type nests too deeply")
	}
	switch t := btf.UnderlyingType(typ).(type) {
	case *btf.Int:
		return max(1, min(uint64(t.Size), 8)), nil
	case *btf.Enum:
		return max(1, min(uint64(t.Size), 8)), nil
	case *btf.Float:
		return max(1, min(uint64(t.Size), 8)), nil
	case *btf.Pointer:
		return 8, nil
	case *btf.Array:
		return btfAlignof(t.Type, depth+1)
	case *btf.Struct:
		return membersAlignof(t.Members, depth)
	case *btf.Union:
		return membersAlignof(t.Members, depth)
	default:
		return 0, fmt.Errorf("%s has no alignment", typ)
	}
}

func membersAlignof(members []btf.Member, depth int) (uint64, error) {
	align := uint64(1)
	for _, m := range members {
		a, err := btfAlignof(m.Type, depth+1)
		if err != nil {
			return 0, err
		}
		align = max(align, a)
	}
	return align, nil
}

// ksym returns the .ksyms entry called name: a *btf.Func or a *btf.Var.
func (r *elfReader) ksym(name string) btf.Type {
	if r.ksyms == nil {
		return nil
	}
	for _, vsi := range r.ksyms.Vars {
		if vsi.Type.TypeName() == name {
			return vsi.Type
		}
	}
	return nil
}

// kconfigOffset returns the offset of the .kconfig variable called name.
func (r *elfReader) kconfigOffset(name string) (uint32, bool) {
	if r.kconfig == nil {
		return 0, false
	}
	for _, vsi := range r.kconfig.Value.(*btf.Datasec).Vars {
		if vsi.Type.TypeName() == name {
			return vsi.Offset, true
		}
	}
	return 0, false
}
