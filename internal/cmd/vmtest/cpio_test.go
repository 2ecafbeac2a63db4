package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
)

// cpioEntry is one entry as readCPIO sees it.
type cpioEntry struct {
	Mode                 uint32
	Data                 string
	RdevMajor, RdevMinor uint32
}

// readCPIO is an independent newc reader: it checks every header field
// that Write sets and every alignment the kernel relies on.
func readCPIO(data []byte) (map[string]cpioEntry, []string, error) {
	entries := map[string]cpioEntry{}
	var order []string
	off := 0
	align := func(n int) int { return (n + 3) &^ 3 }
	for {
		if off%4 != 0 {
			return nil, nil, fmt.Errorf("header at %d is not 4-byte aligned", off)
		}
		if off+110 > len(data) {
			return nil, nil, fmt.Errorf("truncated header at %d", off)
		}
		hdr := data[off : off+110]
		if string(hdr[:6]) != "070701" {
			return nil, nil, fmt.Errorf("bad magic at %d", off)
		}
		var f [13]uint32
		for i := range f {
			v, err := strconv.ParseUint(string(hdr[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				return nil, nil, fmt.Errorf("header field %d at %d: %w", i, off, err)
			}
			f[i] = uint32(v)
		}
		mode, size, namesize := f[1], int(f[6]), int(f[11])
		nameEnd := off + 110 + namesize
		if namesize < 1 || nameEnd > len(data) || data[nameEnd-1] != 0 {
			return nil, nil, fmt.Errorf("bad name at %d", off)
		}
		name := string(data[off+110 : nameEnd-1])
		start := align(nameEnd)
		if start+size > len(data) {
			return nil, nil, fmt.Errorf("%s: truncated data", name)
		}
		if name == "TRAILER!!!" {
			if align(start) != len(data) {
				return nil, nil, fmt.Errorf("%d bytes after the trailer", len(data)-align(start))
			}
			return entries, order, nil
		}
		entries[name] = cpioEntry{Mode: mode, Data: string(data[start : start+size]), RdevMajor: f[9], RdevMinor: f[10]}
		order = append(order, name)
		off = align(start + size)
	}
}

func TestCPIOWriter(t *testing.T) {
	var buf bytes.Buffer
	c := newCPIOWriter(&buf)
	qt.Assert(t, qt.IsNil(c.Bytes("/a/b/file", 0o644, []byte("hello"))))
	qt.Assert(t, qt.IsNil(c.Bytes("a/odd", 0o755, []byte("xyz"))))
	qt.Assert(t, qt.IsNil(c.Bytes("empty", 0o600, nil)))
	qt.Assert(t, qt.IsNil(c.Symlink("bin/sh", "busybox")))
	qt.Assert(t, qt.IsNil(c.CharDev("dev/console", 0o600, 5, 1)))
	qt.Assert(t, qt.IsNil(c.Close()))

	got, order, err := readCPIO(buf.Bytes())
	qt.Assert(t, qt.IsNil(err))
	want := map[string]cpioEntry{
		"a":           {Mode: 0o40755},
		"a/b":         {Mode: 0o40755},
		"a/b/file":    {Mode: 0o100644, Data: "hello"},
		"a/odd":       {Mode: 0o100755, Data: "xyz"},
		"empty":       {Mode: 0o100600},
		"bin":         {Mode: 0o40755},
		"bin/sh":      {Mode: 0o120777, Data: "busybox"},
		"dev":         {Mode: 0o40755},
		"dev/console": {Mode: 0o20600, RdevMajor: 5, RdevMinor: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("archive (-want +got):\n%s", diff)
	}
	// Parents come before their children: the kernel creates entries in
	// archive order.
	qt.Assert(t, qt.DeepEquals(order, []string{"a", "a/b", "a/b/file", "a/odd", "empty", "bin", "bin/sh", "dev", "dev/console"}))
}

func TestCPIOWriterErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(c *cpioWriter) error
		err   string
	}{
		{"duplicate", func(c *cpioWriter) error {
			c.Dir("x", 0o755)
			return c.Dir("x", 0o755)
		}, `duplicate entry "x"`},
		{"empty name", func(c *cpioWriter) error { return c.Dir("/", 0o755) }, "empty entry name"},
		{"short file", func(c *cpioWriter) error {
			return c.File("f", 0o644, 10, strings.NewReader("abc"))
		}, "read 3 of 10 bytes"},
		{"negative size", func(c *cpioWriter) error {
			return c.File("f", 0o644, -1, strings.NewReader(""))
		}, "does not fit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.write(newCPIOWriter(io.Discard))
			qt.Assert(t, qt.ErrorMatches(err, ".*"+tc.err+".*"))
		})
	}
	// A name that climbs out of the root stays inside it.
	name, err := cleanName("../../etc/passwd")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(name, "etc/passwd"))
}

func TestInitramfs(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeFiles(t, src, map[string]string{
		"go.mod":                           "module example.com/m\n",
		"testdata/x.elf":                   "\x7fELF",
		"pkg/a_test.go":                    "package pkg\n",
		"pkg/stale.test":                   "old binary",
		".git/HEAD":                        "ref: refs/heads/main\n",
		".vmtest/debs/k.deb":               "deb",
		"internal/cmd/vmtest/cache/x":      "cached",
		"internal/cmd/vmtest/testdata/b.c": "int x;",
	})
	bin := filepath.Join(dir, "pkg.test")
	writeFiles(t, dir, map[string]string{"pkg.test": "test binary"})
	busybox := filepath.Join(dir, "busybox")
	qt.Assert(t, qt.IsNil(os.WriteFile(busybox, fakeModule("static=yes"), 0o755)))

	ir := &initramfs{
		Busybox:   busybox,
		Binaries:  []testBinary{{Name: "pkg.test", RelDir: "pkg", Path: bin}},
		SrcRoot:   src,
		Modules:   []module{{Name: "veth", Data: []byte("ko")}},
		Timeout:   "10m0s",
		Flags:     []string{"-test.run=Foo's"},
		HostFiles: map[string]string{"boot/config-6.1": bin},
	}
	for _, compress := range []bool{false, true} {
		out := filepath.Join(dir, fmt.Sprint("initramfs-", compress))
		qt.Assert(t, qt.IsNil(ir.Write(out, compress)))
		data, err := os.ReadFile(out)
		qt.Assert(t, qt.IsNil(err))
		if compress {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			qt.Assert(t, qt.IsNil(err))
			data, err = io.ReadAll(zr)
			qt.Assert(t, qt.IsNil(err))
		}
		got, _, err := readCPIO(data)
		qt.Assert(t, qt.IsNil(err))

		tree := strings.TrimPrefix(src, "/") // the tree keeps its host path
		for name, want := range map[string]string{
			"init":                   string(initScript),
			"vmtest/manifest":        "pkg.test pkg\n",
			"vmtest/modules":         "veth\n",
			"vmtest/config":          "VMTEST_TIMEOUT='10m0s'\nVMTEST_FLAGS='-test.run=Foo'\\''s'\nVMTEST_SRC='" + src + "'\n",
			"vmtest/bin/pkg.test":    "test binary",
			"lib/modules/veth.ko":    "ko",
			"boot/config-6.1":        "test binary",
			"bin/sh":                 "busybox",
			"src":                    src,
			tree + "/go.mod":         "module example.com/m\n",
			tree + "/testdata/x.elf": "\x7fELF",
			tree + "/pkg/a_test.go":  "package pkg\n",
			tree + "/internal/cmd/vmtest/testdata/b.c": "int x;",
		} {
			qt.Assert(t, qt.Equals(got[name].Data, want), qt.Commentf("%s", name))
		}
		qt.Assert(t, qt.Equals(got["init"].Mode, uint32(0o100755)))
		qt.Assert(t, qt.Equals(got["dev/console"].Mode, uint32(0o20600)))
		for _, absent := range []string{".git/HEAD", ".vmtest/debs/k.deb", "pkg/stale.test", "internal/cmd/vmtest/cache/x"} {
			_, ok := got[tree+"/"+absent]
			qt.Assert(t, qt.IsFalse(ok), qt.Commentf("%s should stay out of the VM", absent))
		}
	}
}

func TestCheckStaticRejectsNonELF(t *testing.T) {
	p := filepath.Join(t.TempDir(), "busybox")
	qt.Assert(t, qt.IsNil(os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755)))
	qt.Assert(t, qt.IsNotNil(checkStatic(p)))
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, name)
		qt.Assert(t, qt.IsNil(os.MkdirAll(filepath.Dir(p), 0o755)))
		qt.Assert(t, qt.IsNil(os.WriteFile(p, []byte(data), 0o644)))
	}
}

// TestInitScriptSyntax parses init.sh with a POSIX shell, since only a real
// boot runs it. The full boot is `make vmtest`, never `make test`.
func TestInitScriptSyntax(t *testing.T) {
	sh, err := exec.LookPath("busybox")
	args := []string{"sh", "-n", "init.sh"}
	if err != nil {
		if sh, err = exec.LookPath("sh"); err != nil {
			t.Skip("no shell to parse init.sh with: neither busybox nor sh is installed")
		}
		args = args[1:]
	}
	out, err := exec.Command(sh, args...).CombinedOutput()
	qt.Assert(t, qt.IsNil(err), qt.Commentf("%s", out))
	// What kernel tests rely on being mounted.
	for _, mount := range []string{"bpf:/sys/fs/bpf", "tracefs:/sys/kernel/tracing", "debugfs:/sys/kernel/debug", "cgroup2:/sys/fs/cgroup", "securityfs:/sys/kernel/security"} {
		qt.Assert(t, qt.StringContains(string(initScript), mount))
	}
}
