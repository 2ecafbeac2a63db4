package ebpf

import (
	"errors"
	"fmt"

	"github.com/bpfkit/ebpf/btf"
)

// mapBTF is the BTF of a map's key and value, loaded into the kernel for
// BPF_MAP_CREATE. The kernel keeps its own reference once the map exists,
// so the handle is closed right after creation.
type mapBTF struct {
	handle         *btf.Handle
	keyID, valueID btf.TypeID
}

// fd returns the handle's descriptor for the attr.
func (kv *mapBTF) fd() uint32 { return uint32(kv.handle.FD()) }

// loadMapBTF loads key and value (either may be nil, meaning void) into the
// kernel, encoded for it (btf.MarshalMapKV rewrites kinds an older kernel
// lacks). It returns nil and no error when the kernel has no BTF (before
// 4.18) and the map can do without (no spin lock, timer, kptr or graph
// root): the map is then created without type information.
func loadMapBTF(key, value btf.Type) (*mapBTF, error) {
	h, keyID, valueID, err := btf.MarshalMapKV(key, value)
	if errors.Is(err, ErrNotSupported) && !needsBTF(value) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("key/value BTF: %w", err)
	}
	return &mapBTF{h, keyID, valueID}, nil
}

// Handle returns the BTF the map was created with (Linux 4.18), for
// reading its key and value types. It fails with an error wrapping
// ErrNotSupported if the map has none.
func (m *Map) Handle() (*btf.Handle, error) {
	info, err := m.Info()
	if err != nil {
		return nil, err
	}
	id, ok := info.BTFID()
	if !ok {
		return nil, fmt.Errorf("%s has no BTF: %w", m, ErrNotSupported)
	}
	return btf.NewHandleFromID(id)
}

// specialFieldNames are the kernel structs that only work in map values
// whose BTF the kernel knows: it has to find them to manage them.
var specialFieldNames = map[string]bool{
	"bpf_spin_lock":     true,
	"bpf_res_spin_lock": true,
	"bpf_timer":         true,
	"bpf_wq":            true,
	"bpf_task_work":     true,
	"bpf_list_head":     true,
	"bpf_list_node":     true,
	"bpf_rb_root":       true,
	"bpf_rb_node":       true,
	"bpf_refcount":      true,
}

// needsBTF reports whether a map value contains a field the kernel can only
// handle with BTF: a spin lock, a timer, a workqueue, a kptr, a graph root
// or node. Such a map must not silently lose its BTF.
func needsBTF(typ btf.Type) bool {
	seen := map[btf.Type]bool{}
	var walk func(t btf.Type, depth int) bool
	walk = func(t btf.Type, depth int) bool {
		if t == nil || depth > 32 || seen[t] {
			return false
		}
		seen[t] = true
		switch t := t.(type) {
		case *btf.Struct:
			if specialFieldNames[t.Name] {
				return true
			}
			for _, m := range t.Members {
				if walk(m.Type, depth+1) {
					return true
				}
			}
		case *btf.Union:
			for _, m := range t.Members {
				if walk(m.Type, depth+1) {
					return true
				}
			}
		case *btf.Array:
			return walk(t.Type, depth+1)
		case *btf.Typedef:
			return walk(t.Type, depth+1)
		case *btf.Const:
			return walk(t.Type, depth+1)
		case *btf.Volatile:
			return walk(t.Type, depth+1)
		case *btf.Pointer:
			// A pointer field is only special as a kptr, marked with a
			// type tag on the pointee.
			if tag, ok := t.Target.(*btf.TypeTag); ok {
				switch tag.Value {
				case "kptr", "kptr_untrusted", "kptr_ref", "percpu_kptr":
					return true
				}
			}
		}
		return false
	}
	return walk(typ, 0)
}
