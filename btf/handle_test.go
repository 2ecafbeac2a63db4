package btf

import (
	"errors"
	"os"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"
)

// requireBTFLoad skips unless this process may load BTF.
func requireBTFLoad(tb testing.TB) {
	tb.Helper()
	if err := haveBTF(); err != nil {
		if errors.Is(err, ErrNotSupported) {
			tb.Skip("kernel without BTF:", err)
		}
		if errors.Is(err, unix.EPERM) {
			tb.Skip("loading BTF needs CAP_BPF:", err)
		}
		tb.Fatal(err)
	}
}

func TestFeatureProbes(t *testing.T) {
	requireBTFLoad(t)
	for name, probe := range map[string]func() error{
		"func linkage": haveFuncLinkage,
		"float":        haveFloat,
		"decl tags":    haveDeclTags,
		"type tags":    haveTypeTags,
		"enum64":       haveEnum64,
	} {
		err := probe()
		if errors.Is(err, ErrNotSupported) {
			t.Logf("%s: %v", name, err)
			continue
		}
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", name))
	}
}

// TestHandleVmlinux loads the marshaled kernel BTF into the kernel as user
// BTF and reads it back.
func TestHandleVmlinux(t *testing.T) {
	requireBTFLoad(t)
	requireVmlinux(t)
	spec, err := LoadSpec(vmlinuxPath)
	qt.Assert(t, qt.IsNil(err))
	var types []Type
	for typ, err := range spec.All() {
		qt.Assert(t, qt.IsNil(err))
		types = append(types, typ)
	}
	b, err := NewBuilder(types, nil)
	qt.Assert(t, qt.IsNil(err))
	h, err := NewHandle(b)
	qt.Assert(t, qt.IsNil(err))
	defer h.Close()

	info, err := h.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsFalse(info.IsKernel))
	qt.Assert(t, qt.IsFalse(info.IsVmlinux()))

	back, err := h.Spec(nil)
	qt.Assert(t, qt.IsNil(err))
	checkSpecsEqual(t, spec, back)
}

// TestHandleTestdata loads the BTF of every test object into the kernel.
// Objects with extern functions or variables (.ksyms, .kconfig) are left
// out: the kernel rejects extern linkage, and rewriting externs is the
// loader's job, as in libbpf, because it decides their layout.
func TestHandleTestdata(t *testing.T) {
	requireBTFLoad(t)
	loaded := 0
	for _, file := range testdataObjects(t) {
		spec, err := LoadSpec(file)
		qt.Assert(t, qt.IsNil(err))
		var types []Type
		externs := false
		for typ, err := range spec.All() {
			qt.Assert(t, qt.IsNil(err))
			types = append(types, typ)
			switch v := typ.(type) {
			case *Func:
				externs = externs || v.Linkage == ExternFunc
			case *Var:
				externs = externs || v.Linkage == ExternVar
			}
		}
		if externs {
			continue
		}
		b, err := NewBuilder(types, nil)
		qt.Assert(t, qt.IsNil(err))
		h, err := NewHandle(b)
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", file))
		h.Close()
		loaded++
	}
	t.Logf("loaded the BTF of %d objects", loaded)
}

func TestHandleRejected(t *testing.T) {
	requireBTFLoad(t)
	// A struct member whose offset lies beyond the struct: the kernel
	// rejects it and the error carries its log.
	s := &Struct{Name: "s", Size: 4, Members: []Member{{Name: "a", Type: &Int{Name: "int", Size: 4}, Offset: 64}}}
	b, err := NewBuilder([]Type{s}, nil)
	qt.Assert(t, qt.IsNil(err))
	_, err = NewHandle(b)
	qt.Assert(t, qt.ErrorIs(err, unix.EINVAL))
	qt.Assert(t, qt.ErrorMatches(err, `load BTF: .*: .+`))
}

func TestHandleIDs(t *testing.T) {
	requireBTFLoad(t)
	h, keyID, valueID, err := MarshalMapKV(&Int{Name: "int", Size: 4}, &Struct{Name: "v", Size: 8})
	qt.Assert(t, qt.IsNil(err))
	defer h.Close()
	qt.Assert(t, qt.Equals(keyID, TypeID(1)))
	qt.Assert(t, qt.Equals(valueID, TypeID(2)))

	info, err := h.Info()
	qt.Assert(t, qt.IsNil(err))
	h2, err := NewHandleFromID(info.ID)
	if errors.Is(err, unix.EPERM) {
		t.Skip("BTF by id needs CAP_SYS_ADMIN")
	}
	qt.Assert(t, qt.IsNil(err))
	defer h2.Close()
	spec, err := h2.Spec(nil)
	qt.Assert(t, qt.IsNil(err))
	var v *Struct
	qt.Assert(t, qt.IsNil(spec.TypeByName("v", &v)))

	clone, err := h2.Clone()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Not(qt.Equals(clone.FD(), h2.FD())))
	qt.Assert(t, qt.IsNil(clone.Close()))
	qt.Assert(t, qt.Equals(clone.FD(), -1))

	_, err = NewHandleFromID(0xfffffff)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))

	// The kernel's own BTF is loaded and has an ID.
	kernel, err := FindHandle(func(info *HandleInfo) bool { return info.IsVmlinux() })
	if errors.Is(err, ErrNotFound) {
		t.Skip("kernel BTF not loaded")
	}
	qt.Assert(t, qt.IsNil(err))
	defer kernel.Close()
	kspec, err := kernel.Spec(nil)
	qt.Assert(t, qt.IsNil(err))
	var task *Struct
	qt.Assert(t, qt.IsNil(kspec.TypeByName("task_struct", &task)))

	// Every BTF visible by iteration includes ours.
	found := false
	it := new(HandleIterator)
	for it.Next() {
		if it.ID == info.ID {
			found = true
		}
	}
	qt.Assert(t, qt.IsNil(it.Err()))
	qt.Assert(t, qt.IsTrue(found))
}

func TestHandleModule(t *testing.T) {
	requireBTFLoad(t)
	modules, err := NewCache().Modules()
	if err != nil || len(modules) == 0 {
		t.Skip("no kernel module with BTF loaded")
	}
	h, err := FindHandle(func(info *HandleInfo) bool { return info.IsModule() })
	if err != nil {
		t.Skip("no module BTF handle:", err)
	}
	defer h.Close()
	_, err = h.Spec(nil)
	qt.Assert(t, qt.IsNotNil(err))
	base, err := LoadKernelSpec()
	qt.Assert(t, qt.IsNil(err))
	spec, err := h.Spec(base)
	qt.Assert(t, qt.IsNil(err))
	for _, err := range spec.All() {
		qt.Assert(t, qt.IsNil(err))
	}
}

// BTF with every compatibility rewrite applied still loads: the rewrites
// are what older kernels get.
func TestHandleCompatRewrites(t *testing.T) {
	requireBTFLoad(t)
	spec, err := LoadSpec("../testdata/btf_kinds-el.elf")
	if err != nil {
		t.Skip(err)
	}
	var types []Type
	for typ, err := range spec.All() {
		qt.Assert(t, qt.IsNil(err))
		types = append(types, typ)
	}
	b, err := NewBuilder(types, nil)
	qt.Assert(t, qt.IsNil(err))
	opts := KernelMarshalOptions()
	opts.StripFuncLinkage, opts.ReplaceDeclTags, opts.ReplaceTypeTags, opts.ReplaceEnum64, opts.ReplaceFloat = true, true, true, true, true
	raw, err := b.Marshal(nil, opts)
	qt.Assert(t, qt.IsNil(err))
	h, err := NewHandleFromRawBTF(raw)
	qt.Assert(t, qt.IsNil(err))
	defer h.Close()
	back, err := h.Spec(nil)
	qt.Assert(t, qt.IsNil(err))
	for typ, err := range back.All() {
		qt.Assert(t, qt.IsNil(err))
		switch v := typ.(type) {
		case *DeclTag, *TypeTag, *Float:
			t.Fatalf("%v survived the rewrites", v)
		case *Enum:
			qt.Assert(t, qt.IsFalse(v.has64BitValues()), qt.Commentf("%v", v))
		case *Func:
			qt.Assert(t, qt.Equals(v.Linkage, StaticFunc))
		}
	}
}
