package asm

import (
	"fmt"
	"testing"

	"github.com/go-quicktest/qt"
)

type testKey struct{ n int }

func TestMetadataSetGet(t *testing.T) {
	var m Metadata
	qt.Assert(t, qt.IsNil(m.Get(testKey{1})))
	qt.Assert(t, qt.Equals(m.Len(), 0))

	for i := range 6 {
		m.Set(testKey{i}, i)
	}
	qt.Assert(t, qt.Equals(m.Len(), 6))
	for i := range 6 {
		qt.Assert(t, qt.Equals(m.Get(testKey{i}), any(i)))
	}

	m.Set(testKey{3}, "three")
	qt.Assert(t, qt.Equals(m.Get(testKey{3}), any("three")))
	qt.Assert(t, qt.Equals(m.Len(), 6))

	for i := range 6 {
		m.Set(testKey{i}, nil)
		qt.Assert(t, qt.IsNil(m.Get(testKey{i})))
		qt.Assert(t, qt.Equals(m.Len(), 5-i))
	}
	qt.Assert(t, qt.IsNil(m.t))

	// Removing a missing key is a no-op.
	m.Set(testKey{9}, nil)
	qt.Assert(t, qt.Equals(m.Len(), 0))
}

func TestMetadataCopyOnWrite(t *testing.T) {
	a := Mov.Imm(R0, 0).WithSymbol("a").WithSource(Comment("line"))
	b := a
	b.Metadata.Set(testKey{1}, 1)
	b = b.WithSymbol("b")

	qt.Assert(t, qt.Equals(a.Symbol(), "a"))
	qt.Assert(t, qt.IsNil(a.Metadata.Get(testKey{1})))
	qt.Assert(t, qt.Equals(b.Symbol(), "b"))
	qt.Assert(t, qt.Equals(b.Source().String(), "line"))

	// Removal in one copy leaves the other alone.
	c := b
	c.Metadata.Set(sourceMeta{}, nil)
	qt.Assert(t, qt.IsNil(c.Source()))
	qt.Assert(t, qt.Equals(b.Source().String(), "line"))

	// Copies in a slice are independent too.
	insns := Instructions{a, a}
	insns[1] = insns[1].WithReference("x")
	qt.Assert(t, qt.Equals(insns[0].Reference(), ""))
	qt.Assert(t, qt.Equals(insns[1].Reference(), "x"))
}

func TestMetadataEqual(t *testing.T) {
	var a, b Metadata
	qt.Assert(t, qt.IsTrue(a.Equal(b)))
	a.Set(testKey{1}, []int{1})
	a.Set(testKey{2}, "x")
	qt.Assert(t, qt.IsFalse(a.Equal(b)))
	b.Set(testKey{2}, "x")
	b.Set(testKey{1}, []int{1})
	qt.Assert(t, qt.IsTrue(a.Equal(b)))
	b.Set(testKey{1}, []int{2})
	qt.Assert(t, qt.IsFalse(a.Equal(b)))
}

func TestMetadataEmptyStrings(t *testing.T) {
	ins := Return().WithSymbol("x").WithSymbol("")
	qt.Assert(t, qt.Equals(ins.Metadata.Len(), 0))
	ins = ins.WithSource(nil)
	qt.Assert(t, qt.IsNil(ins.Source()))
}

// A builder ends where the same Sets on a Metadata would, in one table,
// and never changes the Metadata it started from.
func TestMetadataBuilder(t *testing.T) {
	base := Mov.Imm(R0, 0).WithSymbol("a").WithSource(Comment("line"))
	want := base
	want.Metadata.Set(testKey{1}, 1)
	want = want.WithReference("r").WithSource(nil).WithSymbol("b")
	want.Metadata.Set(testKey{2}, 2)
	want.Metadata.Set(testKey{1}, nil)

	var b MetadataBuilder
	for range 2 { // a builder is reused after Build
		b.Reset(base.Metadata)
		b.Set(testKey{1}, 1)
		b.SetReference("r")
		b.SetSource(nil)
		b.SetSymbol("b")
		b.Set(testKey{2}, 2)
		b.Set(testKey{1}, nil)
		b.Set(testKey{9}, nil)
		qt.Assert(t, qt.Equals(b.Get(testKey{2}), any(2)))
		qt.Assert(t, qt.IsNil(b.Get(testKey{1})))
		got := base.WithMetadata(b.Build())
		qt.Assert(t, qt.CmpEquals(got, want))
		qt.Assert(t, qt.Equals(got.Symbol(), "b"))
		qt.Assert(t, qt.Equals(got.Reference(), "r"))
		qt.Assert(t, qt.IsNil(got.Source()))
		qt.Assert(t, qt.Equals(base.Symbol(), "a"))
		qt.Assert(t, qt.Equals(base.Source().String(), "line"))
		qt.Assert(t, qt.Equals(base.Metadata.Len(), 2))
	}

	// Nothing changed: the same table, no allocation.
	allocs := testing.AllocsPerRun(10, func() {
		b.Reset(base.Metadata)
		b.Set(testKey{5}, nil)
		if m := b.Build(); m.t != base.Metadata.t {
			t.Error("unchanged metadata was rebuilt")
		}
	})
	qt.Assert(t, qt.Equals(allocs, 0.0))

	// Removing everything gives empty metadata.
	b.Reset(base.Metadata)
	b.SetSymbol("")
	b.SetSource(nil)
	qt.Assert(t, qt.Equals(b.Build().Len(), 0))
	var empty MetadataBuilder
	qt.Assert(t, qt.Equals(empty.Build().Len(), 0))
}

func BenchmarkMetadataBuilder(b *testing.B) {
	b.ReportAllocs()
	ins := Mov.Imm(R0, 0)
	var mb MetadataBuilder
	var src fmt.Stringer = Comment("line")
	for b.Loop() {
		mb.Reset(ins.Metadata)
		mb.SetSymbol("sym")
		mb.SetReference("ref")
		mb.SetSource(src)
		c := ins.WithMetadata(mb.Build())
		_ = c.Symbol()
		_ = c.Reference()
	}
}

func BenchmarkMetadata(b *testing.B) {
	b.ReportAllocs()
	ins := Mov.Imm(R0, 0)
	for b.Loop() {
		c := ins.WithSymbol("sym").WithReference("ref")
		_ = c.Symbol()
		_ = c.Reference()
	}
}
