package ebpf

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
)

// mapBTF is the BTF of a map's key and value, loaded into the kernel for
// BPF_MAP_CREATE. The kernel keeps its own reference once the map exists,
// so the descriptor is closed right after creation.
type mapBTF struct {
	fd             *sys.FD
	keyID, valueID btf.TypeID
}

// haveBTF reports whether the kernel accepts BTF (4.18). Loading a blob
// with a single int is the smallest probe.
var haveBTF = internal.NewFeatureTest("BTF", func() error {
	var b btf.Builder
	if _, err := b.Add(&btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}); err != nil {
		return err
	}
	fd, err := loadRawBTF(&b, &btf.MarshalOptions{})
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.E2BIG) || errors.Is(err, unix.ENOSYS) {
		return ErrNotSupported
	}
	if err != nil {
		return err
	}
	return fd.Close()
}, "4.18")

// newerBTFOptions writes the BTF of a 6.x kernel as is. compatBTFOptions
// rewrites what kernels before 6.0 lack (64-bit enums, type and decl tags,
// function linkage). Key and value types of maps rarely contain any of it,
// so the rewrite is only tried when the kernel refuses the first blob.
var compatBTFOptions = btf.MarshalOptions{
	StripFuncLinkage: true,
	ReplaceDeclTags:  true,
	ReplaceTypeTags:  true,
	ReplaceEnum64:    true,
}

// loadMapBTF loads key and value (either may be nil, meaning void) into the
// kernel. It returns nil and no error when the kernel has no BTF and the
// map can do without (no spin lock, timer, kptr or graph root): the map is
// then created without type information, as on kernels before 4.18.
func loadMapBTF(key, value btf.Type) (*mapBTF, error) {
	if err := haveBTF(); err != nil {
		if errors.Is(err, ErrNotSupported) && !needsBTF(value) {
			return nil, nil
		}
		return nil, err
	}

	var b btf.Builder
	out := &mapBTF{}
	var err error
	if key != nil {
		if out.keyID, err = b.Add(key); err != nil {
			return nil, fmt.Errorf("key type: %w", err)
		}
	}
	if value != nil {
		if out.valueID, err = b.Add(value); err != nil {
			return nil, fmt.Errorf("value type: %w", err)
		}
	}

	out.fd, err = loadRawBTF(&b, &btf.MarshalOptions{})
	if errors.Is(err, unix.EINVAL) {
		// Pre-6.0 kernels reject the newer kinds; try their spelling.
		out.fd, err = loadRawBTF(&b, &compatBTFOptions)
	}
	if err != nil {
		return nil, fmt.Errorf("load key/value BTF: %w", err)
	}
	return out, nil
}

// loadRawBTF encodes the builder's types and loads them. On failure the
// kernel's log says why; it is kept short, the blob being tiny.
func loadRawBTF(b *btf.Builder, opts *btf.MarshalOptions) (*sys.FD, error) {
	opts.PreventNoTypeFound = true
	raw, err := b.Marshal(nil, opts)
	if err != nil {
		return nil, err
	}
	attr := sys.BtfLoadAttr{
		Btf:     sys.NewSlicePointer(raw),
		BtfSize: uint32(len(raw)),
	}
	fd, err := sys.BtfLoad(&attr)
	if err == nil {
		return fd, nil
	}
	// Ask for the log only on failure: most loads succeed.
	log := make([]byte, 4096)
	attr.BtfLogBuf = sys.NewSlicePointer(log)
	attr.BtfLogSize = uint32(len(log))
	attr.BtfLogLevel = 1
	if fd, err2 := sys.BtfLoad(&attr); err2 == nil {
		return fd, nil
	}
	if msg := cString(log); msg != "" {
		return nil, fmt.Errorf("%w: %s", err, msg)
	}
	return nil, err
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	// The last line names the problem; earlier ones list types.
	s := string(b)
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
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
