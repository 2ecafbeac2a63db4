package sys

import (
	"testing"
	"unsafe"

	"github.com/go-quicktest/qt"
)

func TestPointerSize(t *testing.T) {
	qt.Check(t, qt.Equals(unsafe.Sizeof(Pointer{}), uintptr(8)))
}

func TestNewStringPointer(t *testing.T) {
	p := NewStringPointer("sys_enter")
	got := unsafe.Slice((*byte)(p.ptr), 10)
	qt.Check(t, qt.DeepEquals(got, []byte("sys_enter\x00")))
	qt.Check(t, qt.IsFalse(NewStringPointer("").IsNil()))
}

func TestNewSlicePointer(t *testing.T) {
	qt.Check(t, qt.IsTrue(NewSlicePointer[byte](nil).IsNil()))
	s := []uint64{1, 2}
	qt.Check(t, qt.Equals(NewSlicePointer(s).ptr, unsafe.Pointer(&s[0])))
}

func TestNewStringSlicePointer(t *testing.T) {
	qt.Check(t, qt.IsTrue(NewStringSlicePointer(nil).IsNil()))
	p := NewStringSlicePointer([]string{"a", "bc"})
	ptrs := unsafe.Slice((*Pointer)(p.ptr), 2)
	qt.Check(t, qt.DeepEquals(unsafe.Slice((*byte)(ptrs[0].ptr), 2), []byte("a\x00")))
	qt.Check(t, qt.DeepEquals(unsafe.Slice((*byte)(ptrs[1].ptr), 3), []byte("bc\x00")))
}
