package link

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// stapsdtNote encodes one .note.stapsdt entry.
func stapsdtNote(bo binary.ByteOrder, class elf.Class, owner string, typ uint32, loc, base, sema uint64, strs ...string) []byte {
	var desc bytes.Buffer
	for _, a := range []uint64{loc, base, sema} {
		if class == elf.ELFCLASS32 {
			binary.Write(&desc, bo, uint32(a))
		} else {
			binary.Write(&desc, bo, a)
		}
	}
	for _, s := range strs {
		desc.WriteString(s)
		desc.WriteByte(0)
	}
	var b bytes.Buffer
	name := owner + "\x00"
	binary.Write(&b, bo, uint32(len(name)))
	binary.Write(&b, bo, uint32(desc.Len()))
	binary.Write(&b, bo, typ)
	b.WriteString(name)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.Write(desc.Bytes())
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func TestParseUSDTNotes(t *testing.T) {
	for _, c := range []struct {
		bo    binary.ByteOrder
		class elf.Class
	}{
		{binary.LittleEndian, elf.ELFCLASS64},
		{binary.BigEndian, elf.ELFCLASS64},
		{binary.LittleEndian, elf.ELFCLASS32},
	} {
		section := bytes.Join([][]byte{
			stapsdtNote(c.bo, c.class, "stapsdt", 3, 0x1000, 0x2000, 0x3000, "prov", "probe", "-4@%edi 8@$1"),
			stapsdtNote(c.bo, c.class, "GNU", 3, 1, 2, 3, "not", "usdt", ""),
			stapsdtNote(c.bo, c.class, "stapsdt", 1, 1, 2, 3, "wrong", "type", ""),
			stapsdtNote(c.bo, c.class, "stapsdt", 3, 0x1010, 0x2000, 0, "prov", "noargs", ""),
			stapsdtNote(c.bo, c.class, "stapsdt", 3, 0x1020, 0, 0, "prov", "colon", ":"),
		}, nil)
		got, err := parseUSDTNotes(section, c.class, c.bo)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.CmpEquals(got, []usdtNote{
			{provider: "prov", name: "probe", args: "-4@%edi 8@$1", loc: 0x1000, base: 0x2000, sema: 0x3000},
			{provider: "prov", name: "noargs", loc: 0x1010, base: 0x2000},
			{provider: "prov", name: "colon", loc: 0x1020},
		}, cmp.AllowUnexported(usdtNote{})), qt.Commentf("%s %s", c.bo, c.class))
	}
}

func TestParseUSDTNotesErrors(t *testing.T) {
	le := binary.LittleEndian
	good := stapsdtNote(le, elf.ELFCLASS64, "stapsdt", 3, 1, 2, 3, "p", "n", "")
	setDescSize := func(n uint32) []byte {
		b := bytes.Clone(good)
		le.PutUint32(b[4:], n)
		return b
	}
	for _, c := range []struct {
		name string
		data []byte
		err  string
	}{
		{"short header", good[:8], `note at offset 0: 8 bytes left, a note header needs 12`},
		{"truncated", good[:len(good)-4], `note at offset 0: name of 8 and descriptor of 29 bytes go past the section's end \(48\)`},
		{"huge descriptor", setDescSize(0xffffffff), `note at offset 0: name of 8 and descriptor of 4294967295 bytes go past .*`},
		{"short descriptor", setDescSize(20), `note at offset 0: descriptor of 20 bytes is too short for 3 addresses and 3 strings`},
		{"unterminated", setDescSize(28), `note at offset 0: string 2 of the descriptor is not NUL-terminated`},
		{"empty name", stapsdtNote(le, elf.ELFCLASS64, "stapsdt", 3, 1, 2, 3, "p", "", ""), `note at offset 0: probe at 0x1 has an empty provider or name`},
		{"second note", append(bytes.Clone(good), 1, 2, 3), `note at offset 52: 3 bytes left, .*`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseUSDTNotes(c.data, elf.ELFCLASS64, le)
			qt.Assert(t, qt.ErrorMatches(err, c.err))
		})
	}
}

// TestResolveUSDTPrelink moves .stapsdt.base as prelink would: the site
// and the semaphore move with it.
func TestResolveUSDTPrelink(t *testing.T) {
	ex := &Executable{
		machine: elf.EM_X86_64,
		segments: []elf.ProgHeader{
			{Type: elf.PT_LOAD, Flags: elf.PF_R | elf.PF_X, Off: 0, Vaddr: 0x401000, Filesz: 0x1000, Memsz: 0x1000},
			{Type: elf.PT_LOAD, Flags: elf.PF_R | elf.PF_W, Off: 0x2000, Vaddr: 0x603000, Filesz: 0x100, Memsz: 0x200},
		},
	}
	base := &elf.SectionHeader{Name: ".stapsdt.base", Addr: 0x401800}
	n := usdtNote{provider: "p", name: "n", loc: 0x400100, base: 0x400800, sema: 0x602010}
	got := ex.resolveUSDT(n, base)
	qt.Assert(t, qt.IsNil(got.err))
	qt.Assert(t, qt.Equals(got.Address, 0x401100))
	qt.Assert(t, qt.Equals(got.Offset, 0x100))
	qt.Assert(t, qt.Equals(got.Semaphore, 0x603010))
	qt.Assert(t, qt.Equals(got.SemaphoreOffset, 0x2010))

	// Without the section (or with a zero base in the note) nothing moves.
	got = ex.resolveUSDT(usdtNote{loc: 0x401100, sema: 0x603010}, nil)
	qt.Assert(t, qt.Equals(got.Address, 0x401100))
	qt.Assert(t, qt.Equals(got.Offset, 0x100))

	// A site outside the code, a semaphore in it.
	got = ex.resolveUSDT(usdtNote{loc: 0x603000, sema: 0x401000}, nil)
	qt.Assert(t, qt.ErrorMatches(got.err, "address 0x603000 is in no executable segment\nsemaphore address 0x401000 is in no data segment"))
}

// readelfProbes lists the USDT probes `readelf -n` shows, as USDTProbes
// reports them for a file that was not prelinked.
func readelfProbes(t *testing.T, path string) []USDTProbe {
	t.Helper()
	out, err := exec.Command("readelf", "-n", "--wide", path).Output()
	if err != nil {
		t.Skipf("readelf (binutils): %v", err)
	}
	var probes []USDTProbe
	sc := bufio.NewScanner(bytes.NewReader(out))
	hex := func(s string) uint64 {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(s), "0x"), 16, 64)
		qt.Assert(t, qt.IsNil(err), qt.Commentf("readelf: %q", s))
		return v
	}
	for sc.Scan() {
		// With --wide, "Provider: " ends the note's header line.
		line := sc.Text()
		if i := strings.Index(line, "Provider: "); i >= 0 {
			probes = append(probes, USDTProbe{Provider: strings.TrimSpace(line[i+len("Provider: "):])})
			continue
		}
		key, value, _ := strings.Cut(strings.TrimSpace(line), ": ")
		if len(probes) == 0 {
			continue
		}
		switch key {
		case "Name":
			probes[len(probes)-1].Name = value
		case "Location":
			// Location: 0x..., Base: 0x..., Semaphore: 0x...
			p := &probes[len(probes)-1]
			fields := strings.Split(value, ", ")
			p.Address = hex(fields[0])
			p.Semaphore = hex(strings.TrimPrefix(fields[2], "Semaphore: "))
		case "Arguments":
			probes[len(probes)-1].Args = value
		}
	}
	return probes
}

// TestUSDTProbesReadelf compares USDTProbes with binutils' readelf on the
// test program, python3.11 and libstdc++, and checks that every site's
// file offset holds a nop.
func TestUSDTProbesReadelf(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the files and the nop checked are x86-64's")
	}
	files := []string{buildUSDTProg(t), "/usr/bin/python3.11", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"}
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s: %v", path, err)
			}
			ex, err := OpenExecutable(path)
			qt.Assert(t, qt.IsNil(err))
			got, err := ex.USDTProbes()
			qt.Assert(t, qt.IsNil(err))
			want := readelfProbes(t, path)
			qt.Assert(t, qt.Not(qt.HasLen(want, 0)))
			qt.Assert(t, qt.CmpEquals(got, want, cmpopts.IgnoreUnexported(USDTProbe{}),
				cmpopts.IgnoreFields(USDTProbe{}, "Offset", "SemaphoreOffset")))

			raw, err := os.ReadFile(path)
			qt.Assert(t, qt.IsNil(err))
			for _, p := range got {
				qt.Assert(t, qt.IsNil(p.err))
				qt.Assert(t, qt.Equals(raw[p.Offset], 0x90), qt.Commentf("%s: no nop at %#x", p.String(), p.Offset))
				_, err := p.Arguments()
				qt.Assert(t, qt.IsNil(err))
			}
		})
	}
}
