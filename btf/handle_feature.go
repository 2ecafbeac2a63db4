package btf

import (
	"errors"
	"fmt"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
	"golang.org/x/sys/unix"
)

// Feature probes: each loads a tiny BTF blob using one feature. They run
// at most once per process (internal.NewFeatureTest memoizes them) and
// decide which compatibility rewrites KernelMarshalOptions asks for. Each
// rewrite can go when the kernel version it names is no longer supported.

// KernelMarshalOptions returns options that encode BTF for the running
// kernel, rewriting what it does not understand. Probes the kernel (a few
// bpf(2) calls, once per process).
func KernelMarshalOptions() *MarshalOptions {
	return &MarshalOptions{
		Order:              internal.NativeEndian,
		StripFuncLinkage:   haveFuncLinkage() != nil,
		ReplaceDeclTags:    haveDeclTags() != nil,
		ReplaceTypeTags:    haveTypeTags() != nil,
		ReplaceEnum64:      haveEnum64() != nil,
		ReplaceFloat:       haveFloat() != nil,
		PreventNoTypeFound: true, // Every kernel rejects BTF without types.
	}
}

// probeBTF loads the BTF of types. EINVAL (the kernel's verdict on a kind
// or flag it does not know) means the feature is missing.
func probeBTF(types ...Type) error {
	b, err := NewBuilder(types, nil)
	if err != nil {
		return err
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		return err
	}
	attr := sys.BtfLoadAttr{Btf: sys.NewSlicePointer(raw), BtfSize: uint32(len(raw))}
	fd, err := sys.BtfLoad(&attr)
	if err == nil {
		return fd.Close()
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.E2BIG) {
		return internal.ErrNotSupported
	}
	return err
}

var probeInt = &Int{Name: "int", Size: 4, Encoding: Signed}

// haveBTF: BPF_BTF_LOAD, Linux 4.18.
var haveBTF = internal.NewFeatureTest("BTF", func() error {
	err := probeBTF(probeInt)
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("probe BTF: %w", err)
	}
	return err
}, "4.18")

// haveFuncLinkage: BTF_KIND_FUNC with global linkage, Linux 5.6.
var haveFuncLinkage = internal.NewFeatureTest("BTF func linkage", func() error {
	if err := haveBTF(); err != nil {
		return err
	}
	return probeBTF(&Func{Name: "a", Linkage: GlobalFunc, Type: &FuncProto{Return: probeInt}})
}, "5.6")

// haveFloat: BTF_KIND_FLOAT, Linux 5.13.
var haveFloat = internal.NewFeatureTest("BTF float", func() error {
	if err := haveBTF(); err != nil {
		return err
	}
	return probeBTF(&Float{Name: "float", Size: 4})
}, "5.13")

// haveDeclTags: BTF_KIND_DECL_TAG, Linux 5.16.
var haveDeclTags = internal.NewFeatureTest("BTF decl tags", func() error {
	if err := haveBTF(); err != nil {
		return err
	}
	td := &Typedef{Name: "t", Type: probeInt}
	return probeBTF(td, &DeclTag{Type: td, Value: "tag", Index: -1})
}, "5.16")

// haveTypeTags: BTF_KIND_TYPE_TAG, Linux 5.17.
var haveTypeTags = internal.NewFeatureTest("BTF type tags", func() error {
	if err := haveBTF(); err != nil {
		return err
	}
	return probeBTF(&Pointer{Target: &TypeTag{Type: probeInt, Value: "tag"}})
}, "5.17")

// haveEnum64: BTF_KIND_ENUM64, Linux 6.0.
var haveEnum64 = internal.NewFeatureTest("BTF enum64", func() error {
	if err := haveBTF(); err != nil {
		return err
	}
	return probeBTF(&Enum{Name: "e", Size: 8, Values: []EnumValue{{"v", 1 << 40}}})
}, "6.0")
