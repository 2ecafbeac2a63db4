package btf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/go-quicktest/qt"
)

// objectSections returns the .BTF and .BTF.ext data of the test objects.
func objectSections(tb testing.TB) (btfs, exts [][]byte) {
	tb.Helper()
	files, _ := filepath.Glob("../testdata/*.elf")
	for _, file := range files {
		f, err := elf.Open(file)
		if err != nil {
			continue
		}
		if s := f.Section(btfSection); s != nil {
			if data, err := s.Data(); err == nil {
				btfs = append(btfs, data)
				ext := []byte(nil)
				if e := f.Section(btfExtSection); e != nil {
					ext, _ = e.Data()
				}
				exts = append(exts, ext)
			}
		}
		f.Close()
	}
	return btfs, exts
}

// exercise runs everything a user might do with a decoded spec. None of it
// may panic or run away on malformed input.
func exercise(spec *Spec) {
	var types []Type
	for typ, err := range spec.All() {
		if err != nil {
			break
		}
		types = append(types, typ)
		_ = fmt.Sprintf("%v %2v", typ, typ)
		_, _ = Sizeof(typ)
		_, _ = alignof(typ)
		_, _ = coreTypesMatch(typ, typ)
		_ = CheckTypeCompatibility(typ, typ)
		var gf GoFormatter
		_, _ = gf.TypeDeclaration("t", typ)
		_ = Copy(typ)
		if name := typ.TypeName(); name != "" {
			_, _ = spec.AnyTypesByName(name)
			_, _ = spec.TypesByName(name)
		}
	}
	if b, err := NewBuilder(types, &BuilderOptions{Deduplicate: len(types) < 200}); err == nil {
		if raw, err := b.Marshal(nil, nil); err == nil {
			if _, err := LoadSpecFromReader(bytes.NewReader(raw)); err != nil {
				panic(fmt.Sprintf("marshaled BTF does not parse: %v", err))
			}
		}
	}
	_ = spec.Copy()
	var cf CFormatter
	_ = cf.WriteSpec(io.Discard, spec)
	_ = cf.WriteTypes(io.Discard, types...)
}

func FuzzSpec(f *testing.F) {
	btfs, _ := objectSections(f)
	for _, b := range btfs {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := LoadSpecFromReader(bytes.NewReader(data))
		if err != nil {
			if spec != nil {
				t.Fatal("spec and error")
			}
			return
		}
		exercise(spec)
	})
}

func FuzzExtInfos(f *testing.F) {
	btfs, exts := objectSections(f)
	for i := range btfs {
		if exts[i] != nil {
			f.Add(btfs[i], exts[i])
		}
	}
	f.Fuzz(func(t *testing.T, btf, ext []byte) {
		raw, err := newRawSpec(btf, nil)
		if err != nil {
			return
		}
		spec := newSpec(raw)
		infos, err := loadExtInfos(ext, spec)
		if err != nil {
			return
		}
		for _, relos := range infos.CORERelos {
			for _, r := range relos {
				_ = r.Relo.String()
			}
		}
		for _, lines := range infos.Lines {
			for _, l := range lines {
				_ = l.Line.String()
			}
		}
	})
}

// validBTF returns a small, valid BTF blob in little-endian order.
func validBTF(tb testing.TB) []byte {
	tb.Helper()
	s := &Struct{Name: "s", Size: 8, Members: []Member{{Name: "a", Type: &Int{Name: "int", Size: 4}}}}
	b, err := NewBuilder([]Type{s, &Enum{Name: "e", Size: 4, Values: []EnumValue{{"A", 1}}}}, nil)
	qt.Assert(tb, qt.IsNil(err))
	raw, err := b.Marshal(nil, &MarshalOptions{Order: binary.LittleEndian})
	qt.Assert(tb, qt.IsNil(err))
	return raw
}

// TestMalformedBTF corrupts a valid blob field by field: every corruption
// is an error (at load or at decode), never a panic, and never costs more
// memory than the input warrants.
func TestMalformedBTF(t *testing.T) {
	le := binary.LittleEndian
	typeStart := btfHeaderSize
	put := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { le.PutUint32(b[off:], v); return b }
	}
	tests := []struct {
		name    string
		corrupt func([]byte) []byte
	}{
		{"bad magic", func(b []byte) []byte { b[0] = 0; return b }},
		{"version 2", func(b []byte) []byte { b[btfHeaderVersionOff] = 2; return b }},
		{"hdr_len 0", put(btfHeaderHdrLenOff, 0)},
		{"hdr_len huge", put(btfHeaderHdrLenOff, 0xffffffff)},
		{"hdr_len with unknown non-zero field", func(b []byte) []byte {
			out := append([]byte(nil), b[:btfHeaderSize]...)
			out = append(out, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0)
			le.PutUint32(out[btfHeaderHdrLenOff:], btfHeaderSize+12)
			return append(out, b[btfHeaderSize:]...)
		}},
		{"type_len huge", put(btfHeaderTypeLenOff, 0xfffffff0)},
		{"type_off unaligned", put(btfHeaderTypeOffOff, 1)},
		{"str_off beyond", put(btfHeaderStrOffOff, 0x7fffffff)},
		{"str_len huge", put(btfHeaderStrLenOff, 0xffffffff)},
		{"strings not terminated", func(b []byte) []byte { b[len(b)-1] = 'x'; return b }},
		{"strings start non-empty", func(b []byte) []byte {
			strOff := le.Uint32(b[btfHeaderStrOffOff:])
			b[btfHeaderSize+int(strOff)] = 'x'
			return b
		}},
		{"name offset out of range", put(typeStart+btfTypeNameOffOff, 0xffffff)},
		{"unknown kind", put(typeStart+btfTypeInfoOff, makeInfo(31, 0, false))},
		{"vlen beyond section", put(typeStart+btfTypeInfoOff, makeInfo(kindStruct, 0xffff, false))},
		{"reference out of range", put(typeStart+btfTypeSize+btfMemberTypeOff, 0xfffff)},
		{"type section truncated", func(b []byte) []byte {
			le.PutUint32(b[btfHeaderTypeLenOff:], 8)
			le.PutUint32(b[btfHeaderStrOffOff:], 8)
			return b
		}},
		{"truncated file", func(b []byte) []byte { return b[:len(b)-3] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.corrupt(validBTF(t))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			spec, err := LoadSpecFromReader(bytes.NewReader(data))
			if err == nil {
				// Errors in types show when they are decoded.
				for _, e := range spec.All() {
					if e != nil {
						err = e
						break
					}
				}
			}
			runtime.ReadMemStats(&after)
			qt.Assert(t, qt.IsNotNil(err))
			qt.Assert(t, qt.IsTrue(after.TotalAlloc-before.TotalAlloc < 1<<20), qt.Commentf("allocated %d bytes", after.TotalAlloc-before.TotalAlloc))
		})
	}
}

// A chain of a hundred thousand qualifiers decodes without deep
// recursion, and helpers give up after their depth limit.
func TestDeepChain(t *testing.T) {
	var typ Type = &Int{Name: "int", Size: 4}
	for range 100000 {
		typ = &Const{Type: typ}
	}
	spec := specOf(t, &Typedef{Name: "deep", Type: typ})
	var td *Typedef
	qt.Assert(t, qt.IsNil(spec.TypeByName("deep", &td)))
	_, err := Sizeof(td)
	qt.Assert(t, qt.ErrorIs(err, errTooDeep))
}

func TestMalformedExtInfos(t *testing.T) {
	btfs, exts := objectSections(t)
	var btf, ext []byte
	for i := range btfs {
		if len(exts[i]) > 0 {
			btf, ext = btfs[i], exts[i]
			break
		}
	}
	if ext == nil {
		t.Skip("no test object with .BTF.ext")
	}
	raw, err := newRawSpec(btf, nil)
	qt.Assert(t, qt.IsNil(err))
	spec := newSpec(raw)
	_, err = loadExtInfos(ext, spec)
	qt.Assert(t, qt.IsNil(err))

	order, _ := sniffOrder(ext)
	bo := order.std()
	put := func(off int, v uint32) []byte {
		b := append([]byte(nil), ext...)
		bo.PutUint32(b[off:], v)
		return b
	}
	hdrLen := int(bo.Uint32(ext[extHeaderHdrLenOff:]))
	funcOff := hdrLen + int(bo.Uint32(ext[extHeaderFuncInfoOffOff:]))
	for name, data := range map[string][]byte{
		"short":              ext[:10],
		"hdr_len huge":       put(extHeaderHdrLenOff, 0xffffffff),
		"func info beyond":   put(extHeaderFuncInfoLenOff, 0xffffff),
		"record size small":  put(funcOff, 4),
		"record size odd":    put(funcOff, 9),
		"record count huge":  put(funcOff+8, 0x7fffffff),
		"section name bad":   put(funcOff+4, 0xffffff),
		"line info beyond":   put(extHeaderLineInfoOffOff, 0xfffff0),
		"core relos beyond":  put(extHeaderCoreReloOffOff, 0xfffff0),
		"func record offset": put(funcOff+12, 3),
	} {
		_, err := loadExtInfos(data, spec)
		qt.Assert(t, qt.IsNotNil(err), qt.Commentf("%s", name))
	}

	// The types of all records are decoded in one request; when one of
	// them is bad, the error still names its record, and the request
	// leaves nothing behind.
	fresh := newSpec(raw)
	_, err = loadExtInfos(put(funcOff+16, 0xfffff), fresh)
	qt.Assert(t, qt.ErrorMatches(err, `func info: section \S+: record 0: type id 1048575: .*`))
	qt.Assert(t, qt.ErrorIs(err, ErrNotFound))
	qt.Assert(t, qt.Equals(fresh.types.n, 0), qt.Commentf("a failed request left types behind"))
}

// withHeaderTail returns raw BTF whose header is longer by tail, with
// hdr_len adjusted.
func withHeaderTail(raw, tail []byte) []byte {
	out := append([]byte(nil), raw[:btfHeaderSize]...)
	out = append(out, tail...)
	binary.LittleEndian.PutUint32(out[btfHeaderHdrLenOff:], uint32(btfHeaderSize+len(tail)))
	return append(out, raw[btfHeaderSize:]...)
}

// A newer kernel's longer header: zero fields are skipped, and a kind
// layout section lets us step over a kind we do not know.
func TestLongerHeader(t *testing.T) {
	raw := validBTF(t)
	spec, err := LoadSpecFromReader(bytes.NewReader(withHeaderTail(raw, make([]byte, 16))))
	qt.Assert(t, qt.IsNil(err))
	var s *Struct
	qt.Assert(t, qt.IsNil(spec.TypeByName("s", &s)))

	// Insert a type of unknown kind 25 (4 bytes of info, 2 elements of 8
	// bytes) before the others, and describe kind 25 in a layout section
	// placed after the strings.
	le := binary.LittleEndian
	typeLen := le.Uint32(raw[btfHeaderTypeLenOff:])
	strLen := le.Uint32(raw[btfHeaderStrLenOff:])
	unknown := make([]byte, btfTypeSize+4+2*8)
	le.PutUint32(unknown[btfTypeInfoOff:], makeInfo(25, 2, false))
	layouts := make([]byte, 26*kindLayoutEntrySize)
	layouts[25*kindLayoutEntrySize+1] = 4
	layouts[25*kindLayoutEntrySize+2] = 8
	body := append(append(append([]byte(nil), unknown...), raw[btfHeaderSize:btfHeaderSize+int(typeLen)]...), raw[btfHeaderSize+int(typeLen):]...)
	body = append(body, layouts...)
	tail := make([]byte, 8)
	le.PutUint32(tail[0:], typeLen+uint32(len(unknown))+strLen)
	le.PutUint32(tail[4:], uint32(len(layouts)))
	hdr := withHeaderTail(raw[:btfHeaderSize], tail)
	le.PutUint32(hdr[btfHeaderTypeLenOff:], typeLen+uint32(len(unknown)))
	le.PutUint32(hdr[btfHeaderStrOffOff:], typeLen+uint32(len(unknown)))
	data := append(hdr, body...)

	spec, err = LoadSpecFromReader(bytes.NewReader(data))
	qt.Assert(t, qt.IsNil(err))
	_, err = spec.TypeByID(1)
	qt.Assert(t, qt.ErrorMatches(err, ".*unsupported kind KIND_25.*"))
	// The known types moved up by one ID and still decode; references
	// in them were written for the old IDs, so look them up by name.
	var e *Enum
	qt.Assert(t, qt.IsNil(spec.TypeByName("e", &e)))

	// Without the layout the unknown kind cannot be skipped.
	noLayout := append([]byte(nil), data...)
	le.PutUint32(noLayout[btfHeaderSize+4:], 0)
	_, err = LoadSpecFromReader(bytes.NewReader(noLayout))
	qt.Assert(t, qt.ErrorMatches(err, ".*unknown kind 25.*"))
}
