package ebpf

import (
	"errors"
	"fmt"
	"runtime"
	"slices"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// A struct_ops map (Linux 5.6) implements a kernel "ops" struct, such as
// tcp_congestion_ops, with STRUCT_OPS programs. The object declares the
// struct with only the members it uses; the kernel wants its own value
// struct, bpf_struct_ops_<name>, which wraps the kernel's ops struct
// after some bookkeeping. NewMap creates the map with the BTF ID of that
// value struct (map_structops.go, which finds it in the loader's
// btf.Cache); once the programs exist, the collection loader translates
// the object's value member by member (by name) into the kernel's layout:
// data members are copied, function pointer members get the descriptor of
// the program that implements them. Writing the value registers the ops (e.g. a new
// congestion control algorithm) unless the map has BPF_F_LINK
// (.struct_ops.link, Linux 6.4): then link.AttachStructOps registers it.
//
// The program of each member is the one MapSpec.StructOpsPrograms names,
// which the ELF reader sets from the relocations of the struct_ops
// section; specs without it (built by hand) find the one program whose
// AttachTo is "struct:member".

// populateStructOps writes the value of a struct_ops map: the object's
// data members and, in the function pointer members, the programs
// implementing them, which are loaded if they aren't yet.
func (cl *collectionLoader) populateStructOps(name string, m *Map, spec *MapSpec) error {
	user, ok := btf.As[*btf.Struct](spec.Value)
	if !ok {
		return fmt.Errorf("value type is %v, not a struct", spec.Value)
	}
	target, err := structOpsKernelTypeOf(cl.cache, user)
	if err != nil {
		return err
	}
	var data []byte
	if len(spec.Contents) > 0 {
		data, ok = spec.Contents[0].Value.([]byte)
		if !ok || len(spec.Contents) != 1 {
			return errors.New("contents must be one []byte value holding the struct")
		}
	}
	if uint64(len(data)) < uint64(user.Size) {
		return fmt.Errorf("contents are %d bytes, struct %s %d", len(data), user.Name, user.Size)
	}

	value := make([]byte, target.value.Size)
	ops := value[target.opsOffset:]
	var progs []*Program
	for _, um := range user.Members {
		p, err := cl.structOpsMember(spec, user, um, target.ops, data, ops)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", user.Name, um.Name, err)
		}
		if p != nil {
			progs = append(progs, p)
		}
	}
	if err := m.Put(uint32(0), value); err != nil {
		return fmt.Errorf("register %s: %w", user.Name, err)
	}
	if spec.Flags&sys.BPF_F_LINK == 0 {
		cl.registered = append(cl.registered, name)
	}
	// The value held their descriptors until the kernel took references.
	runtime.KeepAlive(progs)
	return nil
}

// structOpsMember writes the member um of the object's struct into ops,
// the kernel's struct. It returns the program written into a function
// pointer member.
func (cl *collectionLoader) structOpsMember(spec *MapSpec, user *btf.Struct, um btf.Member, kops *btf.Struct, data, ops []byte) (*Program, error) {
	if um.Offset%8 != 0 || um.BitfieldSize != 0 {
		return nil, errors.New("bitfield members are not supported")
	}
	size, err := btf.Sizeof(um.Type)
	if err != nil {
		return nil, err
	}
	off := um.Offset.Bytes()
	if uint64(off)+uint64(size) > uint64(len(data)) {
		return nil, fmt.Errorf("%d bytes at offset %d are beyond the end of the contents", size, off)
	}
	src := data[off : off+uint32(size)]

	prog, err := cl.structOpsProgram(spec, user.Name, um.Name)
	if err != nil {
		return nil, err
	}

	i := slices.IndexFunc(kops.Members, func(km btf.Member) bool { return km.Name == um.Name })
	if i < 0 {
		if prog != nil || !isZero(src) {
			return nil, fmt.Errorf("the kernel's struct %s has no such member: %w", kops.Name, ErrNotSupported)
		}
		return nil, nil
	}
	km := kops.Members[i]
	if km.Offset%8 != 0 || km.BitfieldSize != 0 {
		if isZero(src) && prog == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("the kernel's member is a bitfield")
	}
	kOff := km.Offset.Bytes()
	kSize, err := btf.Sizeof(km.Type)
	if err != nil {
		return nil, err
	}
	if uint64(kOff)+uint64(kSize) > uint64(len(ops)) {
		return nil, fmt.Errorf("the kernel's member lies beyond its struct")
	}
	dst := ops[kOff : kOff+uint32(kSize)]

	_, userPtr := btf.UnderlyingType(um.Type).(*btf.Pointer)
	_, kernPtr := btf.UnderlyingType(km.Type).(*btf.Pointer)
	switch {
	case prog != nil:
		if !kernPtr || kSize != 8 {
			return nil, fmt.Errorf("program %q: the kernel's member is not a function pointer", prog.name)
		}
		// The kernel reads the program's descriptor from the pointer.
		internal.NativeEndian.PutUint64(dst, uint64(prog.FD()))
		return prog, nil
	case userPtr:
		// A pointer without a program: the object leaves it empty.
		return nil, nil
	case kSize != size:
		return nil, fmt.Errorf("%d bytes, the kernel's member %d", size, kSize)
	}
	copy(dst, src)
	return nil, nil
}

// structOpsProgram loads the STRUCT_OPS program implementing member of
// the map's struct, or returns nil if there is none. The map's
// StructOpsPrograms decides when it is set; otherwise the program is the
// one whose AttachTo is "struct:member", and two such programs are
// ambiguous.
func (cl *collectionLoader) structOpsProgram(spec *MapSpec, structName, member string) (*Program, error) {
	attachTo := structName + ":" + member
	if spec.StructOpsPrograms != nil {
		name, ok := spec.StructOpsPrograms[member]
		if !ok {
			return nil, nil
		}
		ps := cl.spec.Programs[name]
		switch {
		case ps == nil:
			return nil, fmt.Errorf("missing program %q", name)
		case ps.Type != StructOps:
			return nil, fmt.Errorf("program %q is a %s program, not StructOps", name, ps.Type)
		case ps.AttachTo != attachTo:
			// The kernel loads a struct_ops program for one member.
			return nil, fmt.Errorf("program %q implements %q, not %q", name, ps.AttachTo, attachTo)
		}
		return cl.loadProgram(name)
	}

	var found string
	for _, name := range sortedKeys(cl.spec.Programs) {
		ps := cl.spec.Programs[name]
		if ps.Type != StructOps || ps.AttachTo != attachTo {
			continue
		}
		if found != "" {
			return nil, fmt.Errorf("programs %q and %q both implement it", found, name)
		}
		found = name
	}
	if found == "" {
		return nil, nil
	}
	return cl.loadProgram(found)
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
