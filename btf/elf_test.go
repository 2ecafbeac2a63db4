package btf

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
)

// secinfoRow is a variable of a datasec as BTF places it, or as the ELF
// symbol table does.
type secinfoRow struct {
	Name         string
	Offset, Size uint32
}

// elfDatasecRows lists the named object symbols of each allocated section
// of the object at file, and the sections' sizes.
func elfDatasecRows(tb testing.TB, file string) (map[string][]secinfoRow, map[string]uint32) {
	tb.Helper()
	f, err := elf.Open(file)
	qt.Assert(tb, qt.IsNil(err))
	defer f.Close()
	syms, err := f.Symbols()
	qt.Assert(tb, qt.IsNil(err))
	rows := make(map[string][]secinfoRow)
	sizes := make(map[string]uint32)
	for _, sec := range f.Sections {
		if sec.Flags&elf.SHF_ALLOC != 0 {
			sizes[sec.Name] = uint32(sec.Size)
		}
	}
	for _, sym := range syms {
		if elf.ST_TYPE(sym.Info) != elf.STT_OBJECT || int(sym.Section) >= len(f.Sections) || sym.Section == elf.SHN_UNDEF {
			continue
		}
		sec := f.Sections[sym.Section].Name
		rows[sec] = append(rows[sec], secinfoRow{sym.Name, uint32(sym.Value), uint32(sym.Size)})
	}
	return rows, sizes
}

// datasecRows lists the variables of ds that the ELF has symbols for.
func datasecRows(ds *Datasec, symbols []secinfoRow) (got, want []secinfoRow) {
	byName := make(map[string]secinfoRow)
	for _, s := range symbols {
		byName[s.Name] = s
	}
	for _, vsi := range ds.Vars {
		v, ok := vsi.Type.(*Var)
		if !ok {
			continue
		}
		sym, ok := byName[v.Name]
		if !ok {
			continue
		}
		got = append(got, secinfoRow{v.Name, vsi.Offset, vsi.Size})
		want = append(want, sym)
	}
	return got, want
}

// Compilers write datasecs with size 0 and every variable at offset 0;
// loading BTF from an ELF object fills both in from the section headers and
// the symbol table. Each datasec is asked for by name from a fresh Spec, so
// that it is decoded before its variables (the order that once left every
// offset at 0), and again after decoding all types in ID order.
func TestDatasecsMatchSymbols(t *testing.T) {
	checked := 0
	for _, file := range testdataObjects(t) {
		spec, err := LoadSpec(file)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", file))
		symbols, sizes := elfDatasecRows(t, file)
		for _, err := range spec.All() {
			qt.Assert(t, qt.IsNil(err))
		}
		for typ := range spec.All() {
			ds, ok := typ.(*Datasec)
			if !ok {
				continue
			}
			size, inELF := sizes[ds.Name]
			if !inELF {
				continue
			}
			what := fmt.Sprintf("%s: datasec %s", file, ds.Name)
			qt.Assert(t, qt.Equals(ds.Size, size), qt.Commentf("%s", what))
			got, want := datasecRows(ds, symbols[ds.Name])
			qt.Assert(t, qt.DeepEquals(got, want), qt.Commentf("%s, all types decoded", what))

			fresh, err := LoadSpec(file)
			qt.Assert(t, qt.IsNil(err))
			var first *Datasec
			qt.Assert(t, qt.IsNil(fresh.TypeByName(ds.Name, &first)), qt.Commentf("%s", what))
			qt.Assert(t, qt.Equals(first.Size, size), qt.Commentf("%s", what))
			got, want = datasecRows(first, symbols[ds.Name])
			qt.Assert(t, qt.DeepEquals(got, want), qt.Commentf("%s, decoded first", what))
			checked += len(got)
		}
	}
	if checked == 0 {
		t.Fatal("no datasec variable with a symbol in any test object")
	}
}

// swappedLayout reports the other byte order than its layout.
type swappedLayout struct{ SectionLayout }

func (l swappedLayout) ByteOrder() binary.ByteOrder {
	if l.SectionLayout.ByteOrder() == binary.LittleEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// LoadSpecAndExtInfosFromSections, given the sections and a layout, reads
// what LoadSpecAndExtInfosFromReader reads from the whole file.
func TestLoadFromSections(t *testing.T) {
	type datasecRow struct {
		Name string
		Size uint32
		Vars []VarSecinfo
	}
	summary := func(spec *Spec, ext *ExtInfos) (datasecs []datasecRow, funcs, lines []string) {
		for typ, err := range spec.All() {
			qt.Assert(t, qt.IsNil(err))
			if ds, ok := typ.(*Datasec); ok {
				datasecs = append(datasecs, datasecRow{ds.Name, ds.Size, ds.Vars})
			}
		}
		if ext == nil {
			return
		}
		for _, sec := range slices.Sorted(maps.Keys(ext.Funcs)) {
			for _, fo := range ext.Funcs[sec] {
				funcs = append(funcs, fmt.Sprintf("%s+%d %s", sec, fo.Offset, fo.Func.Name))
			}
		}
		for _, sec := range slices.Sorted(maps.Keys(ext.Lines)) {
			for _, lo := range ext.Lines[sec] {
				lines = append(lines, fmt.Sprintf("%s+%d %s", sec, lo.Offset, lo.Line.Line()))
			}
		}
		for _, sec := range slices.Sorted(maps.Keys(ext.CORERelos)) {
			for _, ro := range ext.CORERelos[sec] {
				lines = append(lines, fmt.Sprintf("%s+%d %s", sec, ro.Offset, ro.Relo))
			}
		}
		return
	}
	// Types are compared by name: each Spec has its own.
	cmpTypes := cmp.Comparer(func(a, b Type) bool { return fmt.Sprint(a) == fmt.Sprint(b) })

	for _, file := range testdataObjects(t) {
		f, err := elf.Open(file)
		qt.Assert(t, qt.IsNil(err))
		sec := f.Section(btfSection)
		if sec == nil {
			f.Close()
			continue
		}
		data, err := sec.Data()
		qt.Assert(t, qt.IsNil(err))
		var extData []byte
		if s := f.Section(btfExtSection); s != nil {
			extData, err = s.Data()
			qt.Assert(t, qt.IsNil(err))
		}
		layout := newDebugELFLayout(f)
		f.Close()

		spec, ext, err := LoadSpecAndExtInfosFromSections(data, extData, layout)
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", file))
		wantSpec, wantExt := objectExt(t, file)
		gotDS, gotFuncs, gotLines := summary(spec, ext)
		wantDS, wantFuncs, wantLines := summary(wantSpec, wantExt)
		qt.Assert(t, qt.CmpEquals(gotDS, wantDS, cmpTypes), qt.Commentf("%s", file))
		qt.Assert(t, qt.DeepEquals(gotFuncs, wantFuncs), qt.Commentf("%s", file))
		qt.Assert(t, qt.DeepEquals(gotLines, wantLines), qt.Commentf("%s", file))

		_, _, err = LoadSpecAndExtInfosFromSections(data, extData, swappedLayout{layout})
		qt.Assert(t, qt.ErrorMatches(err, `section .BTF: byte order differs from the ELF's .*`))

		// Without a layout, datasecs stay as the compiler wrote them.
		bare, _, err := LoadSpecAndExtInfosFromSections(data, nil, nil)
		qt.Assert(t, qt.IsNil(err))
		for typ := range bare.All() {
			if ds, ok := typ.(*Datasec); ok && layout.sizes[ds.Name] != 0 {
				qt.Assert(t, qt.Equals(ds.Size, 0), qt.Commentf("%s: %s", file, ds.Name))
			}
		}
	}
}
