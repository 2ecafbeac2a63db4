package link

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// TestUSDTLibbpfOracle attaches the same objects to the same probes of
// usdt_prog (not bpfkit:indexed, which libbpf 1.1 can't parse) with libbpf (testdata/usdt_loader.c, bpf_program__attach_usdt)
// and with this library, fires the probes once each time, and compares the
// objects' .bss byte for byte. The objects: testdata/usdt_libbpf.bpf.c
// built here against libbpf-dev's <bpf/usdt.bpf.h>, and testdata/usdt.c
// (whose usdt.h reimplements that header).
func TestUSDTLibbpfOracle(t *testing.T) {
	prog := buildUSDTProg(t)
	testutils.RequireRoot(t)
	if _, err := os.Stat("/usr/include/bpf/usdt.bpf.h"); err != nil {
		t.Skip("libbpf-dev is missing (.ci/deps.sh installs it)")
	}
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 is missing (.ci/deps.sh installs it)")
	}
	dir := t.TempDir()
	realObj := filepath.Join(dir, "usdt_libbpf.o")
	if out, err := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-D__TARGET_ARCH_x86",
		"-I/usr/include/x86_64-linux-gnu", "-c", filepath.Join("testdata", "usdt_libbpf.bpf.c"), "-o", realObj).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	loader := filepath.Join(dir, "usdt_loader")
	if out, err := exec.Command("gcc", "-O2", "-Wall", "-o", loader, filepath.Join("testdata", "usdt_loader.c"), "-lbpf").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	ex, err := OpenExecutable(prog)
	qt.Assert(t, qt.IsNil(err))

	for _, c := range []struct {
		name, object, program, probe string
		check                        func(t *testing.T, spec *ebpf.CollectionSpec, bss []byte)
	}{
		{"usdt.bpf.h/args", realObj, "usdt_args", "args", checkArgsBSS},
		{"usdt.bpf.h/multi", realObj, "usdt_multi", "multi", func(t *testing.T, spec *ebpf.CollectionSpec, bss []byte) {
			qt.Assert(t, qt.Equals(bssVar[int64](t, spec, bss, "multi_sum"), 7+8+41+42))
		}},
		{"usdt.h/args", filepath.Join("..", "testdata", "usdt-el.elf"), "usdt_args", "args", checkArgsBSS},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec, err := ebpf.LoadCollectionSpec(c.object)
			qt.Assert(t, qt.IsNil(err))
			target := startUSDTProg(t, prog)

			ld := startChild(t, loader, c.object, c.program, prog, "bpfkit", c.probe, strconv.Itoa(target.pid), "0xc0ffee")
			qt.Assert(t, qt.Equals(ld.ready, "attached"))
			target.fire()
			libbpfBSS, err := hex.DecodeString(ld.roundTrip("dump"))
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.IsNil(ld.stop()))
			c.check(t, spec, libbpfBSS)

			coll, err := ebpf.NewCollection(spec)
			qt.Assert(t, qt.IsNil(err))
			defer coll.Close()
			attachUSDTOrSkip(t, ex, "bpfkit", c.probe, coll.Programs[c.program], &USDTOptions{PID: target.pid, Cookie: 0xc0ffee})
			target.fire()
			bss := make([]byte, coll.Maps[".bss"].ValueSize())
			qt.Assert(t, qt.IsNil(coll.Maps[".bss"].Lookup(uint32(0), bss)))
			qt.Assert(t, qt.DeepEquals(bss, libbpfBSS), qt.Commentf(".bss after libbpf's attachment and after ours"))
		})
	}
}

func checkArgsBSS(t *testing.T, spec *ebpf.CollectionSpec, bss []byte) {
	t.Helper()
	qt.Assert(t, qt.Equals(bssVar[uint64](t, spec, bss, "hits"), 1))
	qt.Assert(t, qt.Equals(bssVar[int32](t, spec, bss, "arg_cnt"), int32(len(wantArgs))))
	qt.Assert(t, qt.DeepEquals(bssVar[[12]int64](t, spec, bss, "args"), [12]int64(wantArgs)))
	qt.Assert(t, qt.Equals(bssVar[uint64](t, spec, bss, "cookie"), 0xc0ffee))
}

// bssVar decodes variable name from a copy of the object's .bss.
func bssVar[T any](t *testing.T, spec *ebpf.CollectionSpec, bss []byte, name string) T {
	t.Helper()
	v, ok := spec.Variables[name]
	qt.Assert(t, qt.IsTrue(ok), qt.Commentf("no variable %s", name))
	v = v.Copy()
	v.Value = bss[v.Offset : v.Offset+v.Size()]
	var out T
	qt.Assert(t, qt.IsNil(v.Get(&out)))
	return out
}
