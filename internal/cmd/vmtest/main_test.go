package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(io.Discard, nil)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(o.debian.values, []string{"linux-image-amd64"}))
	qt.Assert(t, qt.DeepEquals(o.pkgs.values, []string{"./..."}))
	qt.Assert(t, qt.Equals(o.accel, "auto"))
	qt.Assert(t, qt.Equals(o.smp, 2))
	qt.Assert(t, qt.IsTrue(o.failSkip.MatchString("kernel forbids tracing programs even to root")))

	// A kernel path adds to the default Debian kernel; -debian replaces it.
	o, err = parseFlags(io.Discard, []string{"-kernel", "/a", "-kernel", "/b,/c", "-debian", "linux-image-6.1.0-1-amd64", "-debian", "x"})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(o.kernels.values, []string{"/a", "/b", "/c"}))
	qt.Assert(t, qt.DeepEquals(o.debian.values, []string{"linux-image-6.1.0-1-amd64", "x"}))

	o, err = parseFlags(io.Discard, []string{"-debian", "none", "-kernel", "/k"})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(o.debian.values, 0))

	for _, bad := range [][]string{{"-accel", "hvf"}, {"-smp", "0"}, {"stray"}, {"-nosuchflag"}, {"-fail-skips", "("}} {
		_, err := parseFlags(io.Discard, bad)
		qt.Assert(t, qt.IsNotNil(err), qt.Commentf("%q", bad))
	}
}

func TestParseGoList(t *testing.T) {
	pkgs, err := parseGoList([]byte("m\t/r\t1\t0\t\nm/internal\t/r/internal\t0\t2\t\nm/doc\t/r/doc\t0\t0\t\n"))
	qt.Assert(t, qt.IsNil(err))
	want := []goPackage{
		{ImportPath: "m", Dir: "/r", TestFiles: 1},
		{ImportPath: "m/internal", Dir: "/r/internal", TestFiles: 2},
		{ImportPath: "m/doc", Dir: "/r/doc"},
	}
	if diff := cmp.Diff(want, pkgs); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	_, err = parseGoList([]byte("m/x\t/r/x\t0\t0\tno Go files\n"))
	qt.Assert(t, qt.ErrorMatches(err, "go list: package m/x: no Go files"))
	_, err = parseGoList([]byte("garbage\n"))
	qt.Assert(t, qt.IsNotNil(err))
}

func TestBinaryName(t *testing.T) {
	qt.Assert(t, qt.Equals(binaryName("github.com/bpfkit/ebpf", "."), "ebpf.test"))
	qt.Assert(t, qt.Equals(binaryName("github.com/bpfkit/ebpf", "internal/sys"), "internal_sys.test"))
}

func TestAptField(t *testing.T) {
	show := []byte("Package: linux-image-6.1.0-56-amd64\nVersion: 6.1.192-2\nFilename: pool/main/l/linux-signed-amd64/linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb\n")
	qt.Assert(t, qt.Equals(aptField(show, "Version"), "6.1.192-2"))
	qt.Assert(t, qt.Equals(filepath.Base(aptField(show, "Filename")), "linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb"))
	qt.Assert(t, qt.Equals(aptField(show, "Missing"), ""))
}

func TestKernelFromTree(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"boot/vmlinuz-6.1.0-56-amd64":                "bzImage",
		"boot/config-6.1.0-56-amd64":                 "CONFIG_KPROBES=y\n# CONFIG_FPROBE is not set\nCONFIG_LSM=\"landlock,bpf\"\n",
		"lib/modules/6.1.0-56-amd64/modules.builtin": "",
	})
	k, err := kernelFromTree(root)
	qt.Assert(t, qt.IsNil(err))
	want := &kernel{
		Label:   "6.1.0-56-amd64",
		Image:   filepath.Join(root, "boot/vmlinuz-6.1.0-56-amd64"),
		Release: "6.1.0-56-amd64",
		ModDir:  filepath.Join(root, "lib/modules/6.1.0-56-amd64"),
		Config:  filepath.Join(root, "boot/config-6.1.0-56-amd64"),
	}
	if diff := cmp.Diff(want, k); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	cfg, err := kernelConfig(k.Config)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(cfg, map[string]string{"CONFIG_KPROBES": "y", "CONFIG_LSM": "landlock,bpf"}))

	// A bare image outside such a tree has no modules and no config.
	bare := filepath.Join(t.TempDir(), "bzImage")
	writeFiles(t, filepath.Dir(bare), map[string]string{"bzImage": "x"})
	k, err = kernelFromImage(bare)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(k, &kernel{Label: "bzImage", Image: bare}))

	_, err = kernelFromTree(t.TempDir())
	qt.Assert(t, qt.ErrorMatches(err, ".*want exactly one boot/vmlinuz-\\*, found 0"))
}

func TestQemuArgs(t *testing.T) {
	cfg := vmConfig{SMP: 2, MemMiB: 4096, Append: baseAppend, Timeout: time.Minute}
	k := &kernel{Image: "/k/vmlinuz"}
	tcg := strings.Join(qemuArgs(cfg, "tcg", k, "/i.cpio", 3, 4), " ")
	for _, want := range []string{
		"-no-reboot", "-smp 2 -m 4096", "-kernel /k/vmlinuz -initrd /i.cpio",
		"path=/dev/fd/3", "path=/dev/fd/4", "-accel tcg -cpu max", "mitigations=off tsc=reliable",
	} {
		qt.Assert(t, qt.StringContains(tcg, want))
	}
	kvm := strings.Join(qemuArgs(cfg, "kvm", k, "/i.cpio", 3, 4), " ")
	qt.Assert(t, qt.StringContains(kvm, "-accel kvm -cpu host"))
	qt.Assert(t, qt.Not(qt.StringContains(kvm, "tsc=reliable")))
	// The BPF LSM only runs when named in lsm=; panics must end qemu.
	qt.Assert(t, qt.StringContains(baseAppend, ",bpf"))
	qt.Assert(t, qt.StringContains(baseAppend, "panic=-1"))
}
