package asm

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/go-quicktest/qt"
)

// execSection is the code of one executable section of a test object.
type execSection struct {
	file, name string
	bo         binary.ByteOrder
	data       []byte
}

// testdataSections returns every executable section of ../testdata/*.elf.
func testdataSections(tb testing.TB) []execSection {
	tb.Helper()
	files, err := filepath.Glob("../testdata/*.elf")
	qt.Assert(tb, qt.IsNil(err))
	if len(files) == 0 {
		tb.Fatal("no test objects in ../testdata: run make testdata")
	}
	var out []execSection
	for _, file := range files {
		f, err := elf.Open(file)
		qt.Assert(tb, qt.IsNil(err), qt.Commentf("%s", file))
		for _, s := range f.Sections {
			if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_EXECINSTR == 0 || s.Size == 0 {
				continue
			}
			data, err := s.Data()
			qt.Assert(tb, qt.IsNil(err), qt.Commentf("%s: section %s", file, s.Name))
			out = append(out, execSection{filepath.Base(file), s.Name, f.ByteOrder, data})
		}
		f.Close()
	}
	return out
}

// TestTestdataRoundTrip decodes every instruction of every test object and
// checks that encoding gives the same bytes back.
func TestTestdataRoundTrip(t *testing.T) {
	total := 0
	for _, sec := range testdataSections(t) {
		insns, err := AppendInstructions(nil, bytes.NewReader(sec.data), sec.bo, "linux")
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%s: section %s", sec.file, sec.name))
		var buf bytes.Buffer
		qt.Assert(t, qt.IsNil(insns.marshalTo(&buf, sec.bo, false)), qt.Commentf("%s: section %s", sec.file, sec.name))
		if !bytes.Equal(buf.Bytes(), sec.data) {
			iter := insns.Iterate()
			for iter.Next() {
				off := iter.Offset.Bytes()
				n := iter.Ins.Size()
				if !bytes.Equal(buf.Bytes()[off:off+n], sec.data[off:off+n]) {
					t.Fatalf("%s: section %s: instruction %d (%v): encoded % x, want % x",
						sec.file, sec.name, iter.Offset, *iter.Ins, buf.Bytes()[off:off+n], sec.data[off:off+n])
				}
			}
		}
		total += len(insns)
	}
	t.Logf("%d instructions round trip", total)
}
