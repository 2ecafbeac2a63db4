package ebpf

import (
	"errors"
	"fmt"
	"sync"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/sys"
)

// A struct_ops map (Linux 5.6) holds one implementation of a kernel
// struct of function pointers, such as tcp_congestion_ops. Its value is
// not the struct the program declares but the kernel's wrapper,
// bpf_struct_ops_<name>, found in the kernel's BTF: the kernel checks the
// map against it. Filling the value (the program descriptors) is the
// collection loader's job; NewMap only creates the map.

// mapStructOpsKernelBTF is the kernel's BTF, read once (lazily decoded, so
// looking up one type is cheap).
var mapStructOpsKernelBTF = sync.OnceValues(func() (*btf.Spec, error) {
	return btf.LoadSpec("/sys/kernel/btf/vmlinux")
})

// mapStructOpsValueType returns the ID and size of the kernel's wrapper type for
// the struct a struct_ops map implements.
func mapStructOpsValueType(value btf.Type) (btf.TypeID, uint32, error) {
	st, ok := btf.As[*btf.Struct](value)
	if !ok || st.Name == "" {
		return 0, 0, fmt.Errorf("%s: the Value type must be the named struct the map implements", StructOpsMap)
	}
	kernel, err := mapStructOpsKernelBTF()
	if err != nil {
		return 0, 0, fmt.Errorf("%s %s: kernel BTF: %w", StructOpsMap, st.Name, err)
	}
	name := "bpf_struct_ops_" + st.Name
	target, err := kernel.AnyTypeByName(name)
	if errors.Is(err, btf.ErrNotFound) {
		return 0, 0, fmt.Errorf("%s %s: the kernel has no %s: %w", StructOpsMap, st.Name, name, ErrNotSupported)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%s %s: %w", StructOpsMap, st.Name, err)
	}
	id, err := kernel.TypeID(target)
	if err != nil {
		return 0, 0, err
	}
	size, err := btf.Sizeof(target)
	if err != nil {
		return 0, 0, fmt.Errorf("%s %s: size of %s: %w", StructOpsMap, st.Name, name, err)
	}
	return id, uint32(size), nil
}

// prepareStructOpsMap fills attr for a struct_ops map and returns the BTF the
// kernel needs alongside (the value type; the kernel wants a BTF object
// even though it checks the map against its own type). The spec's key size
// and capacity default to what the kernel requires: 4 and 1.
func prepareStructOpsMap(spec *MapSpec, attr *sys.MapCreateAttr) (*mapBTF, error) {
	id, size, err := mapStructOpsValueType(spec.Value)
	if err != nil {
		return nil, err
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
	attr.BtfVmlinuxValueTypeId = uint32(id)
	attr.ValueSize = size
	if attr.KeySize == 0 {
		attr.KeySize = 4
	}
	if attr.MaxEntries == 0 {
		attr.MaxEntries = 1
	}
	return kv, nil
}
