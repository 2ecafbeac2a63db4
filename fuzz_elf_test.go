package ebpf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadCollectionSpec feeds mutated test objects to the ELF reader. It
// must return a spec or an error: no panic, no hang, and (checked by the
// corruption tests) no allocation out of proportion to the input.
func FuzzLoadCollectionSpec(f *testing.F) {
	files, err := filepath.Glob("testdata/*.elf")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := LoadCollectionSpecFromReader(bytes.NewReader(data))
		if err != nil {
			if spec != nil {
				t.Fatal("spec and error")
			}
			return
		}
		// Walk what the reader produced: copies and instructions must be
		// well formed.
		cpy := spec.Copy()
		for name, p := range cpy.Programs {
			if p.Name != name || len(p.Instructions) == 0 {
				t.Fatalf("program %q: name %q, %d instructions", name, p.Name, len(p.Instructions))
			}
			var buf bytes.Buffer
			if err := p.Instructions.Marshal(&buf, spec.ByteOrder); err != nil {
				// References to functions and maps are unresolved: only
				// encoding errors of other kinds would be bugs, and the
				// instructions came from bytes, so they encode.
				continue
			}
		}
		for name, v := range cpy.Variables {
			m := cpy.Maps[v.SectionName]
			if m == nil {
				t.Fatalf("variable %q: no map %q", name, v.SectionName)
			}
			data := m.Contents[0].Value.([]byte)
			if int(v.Offset)+len(v.Value) > len(data) {
				t.Fatalf("variable %q beyond its section", name)
			}
		}
	})
}
