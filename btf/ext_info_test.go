package btf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfkit/ebpf/asm"
	"github.com/go-quicktest/qt"
)

// objectExt loads the BTF and .BTF.ext of a test object.
func objectExt(tb testing.TB, file string) (*Spec, *ExtInfos) {
	tb.Helper()
	f, err := os.Open(file)
	qt.Assert(tb, qt.IsNil(err))
	defer f.Close()
	spec, ext, err := LoadSpecAndExtInfosFromReader(f)
	qt.Assert(tb, qt.IsNil(err), qt.Commentf("%s", file))
	return spec, ext
}

// TestExtInfosAgainstSource checks every line record of every test object
// against the C source the object was built from: the record's text must
// be that line of the file.
func TestExtInfosAgainstSource(t *testing.T) {
	lines, indented := 0, 0
	for _, file := range testdataObjects(t) {
		_, ext := objectExt(t, file)
		if ext == nil {
			continue
		}
		for sec, fos := range ext.Funcs {
			qt.Assert(t, qt.Not(qt.HasLen(fos, 0)))
			for i := 1; i < len(fos); i++ {
				qt.Assert(t, qt.IsTrue(fos[i-1].Offset < fos[i].Offset), qt.Commentf("%s %s", file, sec))
			}
			qt.Assert(t, qt.Not(qt.Equals(fos[0].Func.Name, "")))
		}
		for sec, los := range ext.Lines {
			for _, lo := range los {
				li := lo.Line
				src, err := os.ReadFile(filepath.Join("../testdata", li.FileName()))
				if err != nil {
					continue // a line from a header
				}
				srcLines := strings.Split(string(src), "\n")
				n := int(li.LineNumber())
				qt.Assert(t, qt.IsTrue(n >= 1 && n <= len(srcLines)), qt.Commentf("%s %s line %d", file, sec, n))
				qt.Assert(t, qt.Equals(li.Line(), srcLines[n-1]), qt.Commentf("%s %s:%d", file, li.FileName(), n))
				qt.Assert(t, qt.Equals(li.String(), srcLines[n-1]), qt.Commentf("as written, indentation included"))
				lines++
				if strings.TrimLeft(li.String(), " \t") != li.String() {
					indented++
				}
			}
		}
	}
	t.Logf("checked %d line records, %d of them indented", lines, indented)
	qt.Assert(t, qt.Not(qt.Equals(lines, 0)))
	qt.Assert(t, qt.Not(qt.Equals(indented, 0)))
}

// sectionInsns decodes the instructions of an ELF section.
func sectionInsns(tb testing.TB, file, section string) (asm.Instructions, binary.ByteOrder) {
	tb.Helper()
	f, err := elf.Open(file)
	qt.Assert(tb, qt.IsNil(err))
	defer f.Close()
	data, err := f.Section(section).Data()
	qt.Assert(tb, qt.IsNil(err))
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(data), f.ByteOrder, "linux")
	qt.Assert(tb, qt.IsNil(err))
	return insns, f.ByteOrder
}

// Records attached to instructions come back as the kernel's records.
func TestExtInfosThroughInstructions(t *testing.T) {
	checked := 0
	for _, file := range testdataObjects(t) {
		if !strings.HasSuffix(file, "-el.elf") {
			continue
		}
		_, ext := objectExt(t, file)
		if ext == nil {
			continue
		}
		for sec, fos := range ext.Funcs {
			insns, _ := sectionInsns(t, file, sec)
			_, los, cos := ext.Section(sec)
			AssignMetadataToInstructions(insns, fos, los, cos)

			for _, co := range cos {
				iter := insns.Iterate()
				for iter.Next() {
					if iter.Offset == co.Offset {
						qt.Assert(t, qt.Equals(CORERelocationMetadata(iter.Ins), co.Relo))
					}
				}
			}

			var b Builder
			funcInfos, lineInfos, err := MarshalExtInfos(insns, &b)
			qt.Assert(t, qt.IsNil(err))
			spec, err := b.Spec()
			qt.Assert(t, qt.IsNil(err))
			gotFuncs, err := LoadFuncInfos(bytes.NewReader(funcInfos), binary.NativeEndian, uint32(len(funcInfos))/FuncInfoSize, spec)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(len(gotFuncs), len(fos)))
			for i := range fos {
				qt.Assert(t, qt.Equals(gotFuncs[i].Offset, fos[i].Offset))
				qt.Assert(t, qt.Equals(gotFuncs[i].Func.Name, fos[i].Func.Name))
			}
			gotLines, err := LoadLineInfos(bytes.NewReader(lineInfos), binary.NativeEndian, uint32(len(lineInfos))/LineInfoSize, spec)
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(len(gotLines), len(los)), qt.Commentf("%s %s", file, sec))
			for i := range los {
				qt.Assert(t, qt.Equals(gotLines[i].Offset, los[i].Offset))
				qt.Assert(t, qt.Equals(*gotLines[i].Line, *los[i].Line))
			}
			checked++
		}
	}
	qt.Assert(t, qt.Not(qt.Equals(checked, 0)))
}

func TestMarshalExtInfosSynthesizes(t *testing.T) {
	fn := &Func{Name: "f", Type: &FuncProto{Return: &Int{Name: "int", Size: 4}}, Linkage: GlobalFunc}
	fn2 := &Func{Name: "g", Type: &FuncProto{Return: &Int{Name: "int", Size: 4}}}
	insns := asm.Instructions{
		WithFuncMetadata(asm.Mov.Imm(asm.R0, 0), fn).WithSource(asm.Comment("hello")),
		asm.LoadImm(asm.R1, 1, asm.DWord),
		asm.Return(),
		WithFuncMetadata(asm.Mov.Imm(asm.R0, 1), fn2),
		asm.Return(),
	}
	var b Builder
	funcInfos, lineInfos, err := MarshalExtInfos(insns, &b)
	qt.Assert(t, qt.IsNil(err))
	spec, err := b.Spec()
	qt.Assert(t, qt.IsNil(err))
	fos, err := LoadFuncInfos(bytes.NewReader(funcInfos), binary.NativeEndian, 2, spec)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(fos[1].Offset, asm.RawInstructionOffset(4)), qt.Commentf("ldimm64 counts twice"))
	los, err := LoadLineInfos(bytes.NewReader(lineInfos), binary.NativeEndian, 2, spec)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(los[0].Line.Line(), "hello"))
	qt.Assert(t, qt.Equals(los[1].Offset, asm.RawInstructionOffset(4)), qt.Commentf("every function starts with a line"))

	_, err = LoadLineInfos(bytes.NewReader(lineInfos), binary.NativeEndian, 1000, spec)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = LoadFuncInfos(bytes.NewReader(nil), binary.NativeEndian, 1<<30, spec)
	qt.Assert(t, qt.IsNotNil(err))

	// Without any line, no line records.
	_, lineInfos, err = MarshalExtInfos(asm.Instructions{WithFuncMetadata(asm.Return(), fn)}, &b)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(lineInfos, 0))
}

func TestExtInfosSection(t *testing.T) {
	var ei *ExtInfos
	f, l, c := ei.Section("x")
	qt.Assert(t, qt.IsNil(f))
	qt.Assert(t, qt.IsNil(l))
	qt.Assert(t, qt.IsNil(c))
}
