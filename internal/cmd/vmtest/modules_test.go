package main

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

// fakeModule builds the smallest relocatable ELF that debug/elf accepts,
// with a .modinfo section holding the given NUL-separated entries, as a
// stand-in for a kernel module. It has no program headers, so it also
// passes checkStatic.
func fakeModule(modinfo ...string) []byte {
	info := []byte(strings.Join(modinfo, "\x00") + "\x00")
	shstr := []byte("\x00.modinfo\x00.shstrtab\x00")
	const ehsize, shentsize = 64, 64
	infoOff := ehsize
	strOff := infoOff + len(info)
	shOff := (strOff + len(shstr) + 7) &^ 7

	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := elf.Header64{
		Type: uint16(elf.ET_REL), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Shoff: uint64(shOff), Ehsize: ehsize, Shentsize: shentsize, Shnum: 3, Shstrndx: 2,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	binary.Write(&b, le, hdr)
	b.Write(info)
	b.Write(shstr)
	b.Write(make([]byte, shOff-b.Len()))
	for _, sh := range []elf.Section64{
		{},
		{Name: 1, Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC), Off: uint64(infoOff), Size: uint64(len(info)), Addralign: 1},
		{Name: 10, Type: uint32(elf.SHT_STRTAB), Off: uint64(strOff), Size: uint64(len(shstr)), Addralign: 1},
	} {
		binary.Write(&b, le, sh)
	}
	return b.Bytes()
}

func TestModuleDepends(t *testing.T) {
	for _, tc := range []struct {
		name    string
		modinfo []string
		want    []string
	}{
		{"none", []string{"license=GPL", "depends="}, nil},
		{"absent", []string{"license=GPL"}, nil},
		{"two, sorted", []string{"depends=sch_ingress,act_bpf", "name=cls_bpf"}, []string{"act_bpf", "sch_ingress"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deps, err := moduleDepends(fakeModule(tc.modinfo...))
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.DeepEquals(deps, tc.want))
		})
	}
	_, err := moduleDepends([]byte("not an ELF"))
	qt.Assert(t, qt.ErrorMatches(err, "read ELF: .*"))
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/net/sched/cls_bpf.ko":      "cls_bpf",
		"kernel/drivers/net/veth.ko.xz":    "veth",
		"nf-tables.ko.zst":                 "nf_tables",
		"kernel/fs/9p/9p.ko.gz":            "9p",
		"kernel/lib/crc-ccitt.ko":          "crc_ccitt",
		"sch-ingress":                      "sch_ingress",
		"kernel/drivers/net/README.not-ko": "README.not_ko",
	} {
		qt.Assert(t, qt.Equals(moduleName(in), want), qt.Commentf("%s", in))
	}
}

func TestModuleTreeResolve(t *testing.T) {
	dir := t.TempDir()
	put := func(rel string, data []byte) {
		p := filepath.Join(dir, rel)
		qt.Assert(t, qt.IsNil(os.MkdirAll(filepath.Dir(p), 0o755)))
		qt.Assert(t, qt.IsNil(os.WriteFile(p, data, 0o644)))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(fakeModule("depends="))
	zw.Close()

	put("modules.builtin", []byte("kernel/net/core/builtin-thing.ko\n"))
	put("kernel/net/sched/cls_bpf.ko", fakeModule("depends=sch_ingress,builtin_thing"))
	put("kernel/net/sched/sch_ingress.ko", fakeModule("depends=crc-x"))
	put("kernel/lib/crc-x.ko.gz", gz.Bytes())
	put("kernel/drivers/net/veth.ko", fakeModule("depends="))
	put("kernel/net/loop/a.ko", fakeModule("depends=b"))
	put("kernel/net/loop/b.ko", fakeModule("depends=a"))
	put("kernel/net/bad/needs-ghost.ko", fakeModule("depends=ghost"))

	tree, err := openModuleTree(dir)
	qt.Assert(t, qt.IsNil(err))

	mods, missing, err := tree.resolve([]string{"veth", "cls_bpf", "builtin-thing", "nosuch", "sch_ingress"})
	qt.Assert(t, qt.IsNil(err))
	var names []string
	for _, m := range mods {
		names = append(names, m.Name)
	}
	// Dependencies first, each module once, built-ins left out.
	qt.Assert(t, qt.DeepEquals(names, []string{"veth", "crc_x", "sch_ingress", "cls_bpf"}))
	qt.Assert(t, qt.DeepEquals(missing, []string{"nosuch"}))
	qt.Assert(t, qt.DeepEquals(mods[1].Data, fakeModule("depends=")), qt.Commentf("gzip module decompressed"))

	_, _, err = tree.resolve([]string{"a"})
	qt.Assert(t, qt.ErrorMatches(err, "module a: dependency cycle through b"))
	_, _, err = tree.resolve([]string{"needs-ghost"})
	qt.Assert(t, qt.ErrorMatches(err, "module needs_ghost needs ghost, which .*"))
}
