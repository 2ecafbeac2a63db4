package ebpf

import (
	"errors"
	"fmt"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// A struct_ops map (Linux 5.6) holds one implementation of a kernel
// struct of function pointers, such as tcp_congestion_ops. Its value is
// not the struct the program declares but the kernel's wrapper,
// bpf_struct_ops_<name>, found in the kernel's BTF: the kernel checks the
// map against it. Creating the map needs the wrapper's BTF ID and size;
// filling the value (struct_ops.go, the collection loader's job) needs its
// layout. Both look the wrapper up here, in a btf.Cache: the collection
// loader passes the one its programs share, NewMap a fresh one over the
// process's shared kernel BTF index.

// structOpsValuePrefix is prepended to the name of an ops struct to get the
// kernel's value struct.
const structOpsValuePrefix = "bpf_struct_ops_"

// structOpsKernelType is the kernel's side of a struct_ops map.
type structOpsKernelType struct {
	// value is the kernel's bpf_struct_ops_<name>, whose BTF ID in vmlinux
	// is valueID; ops its member of the ops struct, at byte offset
	// opsOffset.
	value     *btf.Struct
	valueID   btf.TypeID
	ops       *btf.Struct
	opsOffset uint32
}

// structOpsKernelTypeOf finds the kernel's value struct for the ops struct
// user (the map spec's Value, the object's own definition) in the kernel
// BTF of c, and the ops struct in it. A kernel without the struct, or
// without BTF, gives an error wrapping ErrNotSupported. Types of kernel
// modules are not searched.
func structOpsKernelTypeOf(c *btf.Cache, user btf.Type) (*structOpsKernelType, error) {
	st, ok := btf.As[*btf.Struct](user)
	if !ok || st.Name == "" {
		return nil, errors.New("the Value type must be the named struct the map implements")
	}
	name := st.Name
	kernel, err := c.Kernel()
	if err != nil {
		return nil, fmt.Errorf("struct_ops %s needs the kernel's BTF: %w", name, err)
	}
	var value *btf.Struct
	if err := kernel.TypeByName(structOpsValuePrefix+name, &value); err != nil {
		if errors.Is(err, btf.ErrNotFound) {
			return nil, fmt.Errorf("the kernel has no struct_ops type %s (%s%s is not in its BTF; types of kernel modules are not supported): %w",
				name, structOpsValuePrefix, name, ErrNotSupported)
		}
		return nil, fmt.Errorf("struct_ops %s: %w", name, err)
	}
	id, err := kernel.TypeID(value)
	if err != nil {
		return nil, fmt.Errorf("struct_ops %s: %w", name, err)
	}
	for _, m := range value.Members {
		if ops, ok := btf.UnderlyingType(m.Type).(*btf.Struct); ok && ops.Name == name {
			if m.Offset%8 != 0 || m.BitfieldSize != 0 {
				return nil, fmt.Errorf("%s: member %s is not byte-aligned", value.Name, m.Name)
			}
			return &structOpsKernelType{value: value, valueID: id, ops: ops, opsOffset: m.Offset.Bytes()}, nil
		}
	}
	return nil, fmt.Errorf("%s has no member of type struct %s", value.Name, name)
}

// prepareStructOpsMap fills attr for a struct_ops map and returns the BTF the
// kernel needs alongside (the value type; the kernel wants a BTF object
// even though it checks the map against its own type). The spec's key size
// and capacity default to what the kernel requires: 4 and 1. c is the
// cache to find the kernel's type in; nil means a new one.
func prepareStructOpsMap(spec *MapSpec, attr *sys.MapCreateAttr, c *btf.Cache) (*mapBTF, error) {
	if c == nil {
		c = btf.NewCache()
	}
	target, err := structOpsKernelTypeOf(c, spec.Value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", StructOpsMap, err)
	}
	kv, err := loadMapBTF(nil, spec.Value)
	if err != nil {
		return nil, err
	}
	if kv == nil {
		return nil, fmt.Errorf("%s needs BTF: %w", StructOpsMap, ErrNotSupported)
	}
	attr.BtfFd = kv.fd()
	attr.BtfKeyTypeId, attr.BtfValueTypeId = 0, 0
	attr.BtfVmlinuxValueTypeId = uint32(target.valueID)
	attr.ValueSize = target.value.Size
	if attr.KeySize == 0 {
		attr.KeySize = 4
	}
	if attr.MaxEntries == 0 {
		attr.MaxEntries = 1
	}
	return kv, nil
}
