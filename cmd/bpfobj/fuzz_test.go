package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfkit/ebpf"
)

// FuzzDescribe feeds whatever the ELF reader accepts to everything show
// does with it: describing maps, programs and variables (values decoded
// through BTF), disassembly, Go declarations and the text output. None of
// it may panic or hang on a hostile object.
func FuzzDescribe(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "*.elf"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		obj := describe("fuzz.o", spec, true)
		if spec.Types != nil {
			if obj.Types, err = goTypes(spec.Types); err != nil {
				return
			}
		}
		writeObject(io.Discard, obj)
	})
}

// FuzzFormatValue decodes arbitrary bytes as the variables of the test
// objects, whatever their size.
func FuzzFormatValue(f *testing.F) {
	spec, err := ebpf.LoadCollectionSpec(object("globals"))
	if err != nil {
		f.Fatal(err)
	}
	var vars []*ebpf.VariableSpec
	for _, v := range spec.Variables {
		vars = append(vars, v)
		f.Add(uint8(len(vars)-1), v.Value)
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		v := vars[int(which)%len(vars)]
		if v.Type == nil {
			return
		}
		s := formatValue(v.Type.Type, b, binary.BigEndian)
		if len(s) > 4*maxValueLength {
			t.Fatalf("%d bytes of output", len(s))
		}
		// The JSON form must not panic on short or odd data either.
		_, _ = jsonValue(v.Type.Type, b, binary.BigEndian)
	})
}
