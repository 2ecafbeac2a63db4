package btf

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"
)

// libbpfRelo is what libbpf's debug log says about one relocation.
type libbpfRelo struct {
	prog   string
	insn   int
	poison bool
	orig   uint64
	new    uint64
}

var (
	libbpfPatched = regexp.MustCompile(`^libbpf: prog '([^']+)': relo #\d+: patched insn #(\d+) \([^)]*\) (?:imm|off|imm64) (-?\d+) -> (-?\d+)$`)
	libbpfPoison  = regexp.MustCompile(`^libbpf: prog '([^']+)': relo #\d+: substituting insn #(\d+) w/ invalid insn$`)
)

func parseUint(s string) uint64 {
	if strings.HasPrefix(s, "-") {
		n, _ := strconv.ParseInt(s, 10, 64)
		return uint64(n)
	}
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// libbpfRelocations runs `bpftool -d prog loadall` on file and collects
// libbpf's CO-RE decisions from its debug log. Loading may fail; the
// relocations are logged before that.
func libbpfRelocations(t *testing.T, bpftool, file string) []libbpfRelo {
	t.Helper()
	pin := filepath.Join("/sys/fs/bpf", "bpfkit-btf-test-"+strconv.Itoa(os.Getpid()))
	defer os.RemoveAll(pin)
	out, _ := exec.Command(bpftool, "-d", "prog", "loadall", file, pin).CombinedOutput()
	var relos []libbpfRelo
	for _, line := range strings.Split(string(out), "\n") {
		if m := libbpfPatched.FindStringSubmatch(line); m != nil {
			insn, _ := strconv.Atoi(m[2])
			relos = append(relos, libbpfRelo{prog: m[1], insn: insn, orig: parseUint(m[3]), new: parseUint(m[4])})
		} else if m := libbpfPoison.FindStringSubmatch(line); m != nil {
			insn, _ := strconv.Atoi(m[2])
			relos = append(relos, libbpfRelo{prog: m[1], insn: insn, poison: true})
		}
	}
	return relos
}

// TestCORERelocateMatchesLibbpf relocates every test object with CO-RE
// relocations against the running kernel and compares each decision with
// libbpf's, as logged by bpftool while loading the same object.
func TestCORERelocateMatchesLibbpf(t *testing.T) {
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("bpftool not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("loading with bpftool needs root")
	}
	var fs unix.Statfs_t
	if err := unix.Statfs("/sys/fs/bpf", &fs); err != nil || uint32(fs.Type) != uint32(unix.BPF_FS_MAGIC) {
		t.Skip("no bpffs at /sys/fs/bpf")
	}
	kernel, err := LoadKernelSpec()
	if err != nil {
		t.Skip("no kernel BTF:", err)
	}

	compared := 0
	files, _ := filepath.Glob("../testdata/*-el.elf")
	for _, file := range files {
		f, err := os.Open(file)
		qt.Assert(t, qt.IsNil(err))
		spec, ext, err := LoadSpecAndExtInfosFromReader(f)
		f.Close()
		qt.Assert(t, qt.IsNil(err))
		if ext == nil || len(ext.CORERelos) == 0 {
			continue
		}
		progs := programSymbols(t, file)
		want := libbpfRelocations(t, bpftool, file)
		if len(want) == 0 {
			t.Logf("%s: libbpf logged no relocations", file)
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			for _, w := range want {
				p, ok := progs[w.prog]
				if !ok || w.insn >= p.insns {
					// A relocation in an appended subprogram: its
					// offset in the section is not known here.
					continue
				}
				off := p.offset + w.insn
				var relo *CORERelocation
				for _, r := range ext.CORERelos[p.section] {
					if int(r.Offset) == off {
						relo = r.Relo
					}
				}
				qt.Assert(t, qt.IsNotNil(relo), qt.Commentf("%s insn %d", w.prog, w.insn))
				fixups, err := CORERelocate([]*CORERelocation{relo}, []*Spec{kernel}, binary.LittleEndian, spec.TypeID)
				qt.Assert(t, qt.IsNil(err))
				fix := fixups[0]
				qt.Assert(t, qt.Equals(fix.poison, w.poison), qt.Commentf("%s: %s", relo, fix.String()))
				if !w.poison {
					qt.Assert(t, qt.Equals(fix.target, w.new), qt.Commentf("%s", relo))
					if !fix.skipLocalValidation {
						qt.Assert(t, qt.Equals(fix.local, w.orig), qt.Commentf("%s", relo))
					}
				}
				compared++
			}
		})
	}
	t.Logf("compared %d relocations with libbpf", compared)
	qt.Assert(t, qt.Not(qt.Equals(compared, 0)))
}

type progSymbol struct {
	section string
	offset  int // in instructions
	insns   int
}

// programSymbols maps the function symbols of an object to their section
// and position.
func programSymbols(t *testing.T, file string) map[string]progSymbol {
	f, err := elf.Open(file)
	qt.Assert(t, qt.IsNil(err))
	defer f.Close()
	syms, err := f.Symbols()
	qt.Assert(t, qt.IsNil(err))
	out := make(map[string]progSymbol)
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || int(s.Section) >= len(f.Sections) {
			continue
		}
		out[s.Name] = progSymbol{f.Sections[s.Section].Name, int(s.Value / 8), int(s.Size / 8)}
	}
	return out
}
