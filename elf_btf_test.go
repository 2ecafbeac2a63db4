package ebpf

import (
	"debug/elf"
	"testing"

	"github.com/go-quicktest/qt"
)

// btfLayout answers from a search in small objects and from an index in
// large ones: both must find every symbol a datasec could name, and the
// same one when names repeat.
func TestBTFLayout(t *testing.T) {
	for _, name := range testObjects(t) {
		for _, order := range []string{"el", "eb"} {
			f, err := parseELF(readTestObject(t, name+"-"+order))
			qt.Assert(t, qt.IsNil(err))
			r := &elfReader{elfFile: f}
			qt.Assert(t, qt.IsNil(r.classifySections()))
			r.sortSymbols()
			l := &btfLayout{r: r, last: -1}
			for j := range r.symbols {
				sym := &r.symbols[j]
				sec := r.section(sym.section)
				if !layoutSymbol(sym) || sec == nil || sec.flags&elf.SHF_ALLOC == 0 {
					continue
				}
				what := qt.Commentf("%s-%s: %s in %s", name, order, sym.name, sec.name)
				i := l.find(sec.name)
				qt.Assert(t, qt.Not(qt.Equals(i, -1)), what)
				want, ok := l.searchSymbol(i, sym.name)
				qt.Assert(t, qt.IsTrue(ok), what)
				got, ok := l.indexedSymbol(i, sym.name)
				qt.Assert(t, qt.IsTrue(ok), what)
				qt.Assert(t, qt.Equals(got, want), what)
				got, ok = l.SymbolOffset(sec.name, sym.name)
				qt.Assert(t, qt.IsTrue(ok), what)
				qt.Assert(t, qt.Equals(got, want), what)
				size, ok := l.SectionSize(sec.name)
				qt.Assert(t, qt.IsTrue(ok), what)
				qt.Assert(t, qt.Equals(size, r.sections[i].size), what)
			}
			_, ok := l.SymbolOffset(".nosuchsection", "x")
			qt.Assert(t, qt.IsFalse(ok))
		}
	}
}
