package btf

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The BTF of the kernels the VM tests boot (Debian's 6.1 and 6.12, as
// .ci/run passes them to vmtest), for tests that compare whole kernels'
// types on this machine. vmtest -fetch downloads and unpacks the packages
// into the same cache as a VM run (.vmtest at the module root); the BTF is
// read from the vmlinux inside each bzImage and cached beside them as
// .vmtest/btf/<image>.btf.

// debianKernels are the -debian arguments of .ci/run.
var debianKernels = []string{"linux-image-amd64", "bookworm-backports/linux-image-amd64"}

// testKernel is one kernel's BTF for a test.
type testKernel struct {
	// Name is the kernel release, or "running" for this machine's.
	Name string
	// File is raw BTF or an ELF file with a .BTF section.
	File string
}

var debianBTF struct {
	once  sync.Once
	files []testKernel
	err   error
}

// testKernels returns the running kernel's BTF and that of the VM tests'
// Debian kernels. It skips the test where the tools to fetch them (go,
// apt-get, dpkg-deb, xz, zstd) are missing; in the VM tests, where the
// running kernel is one of them, it returns only that.
func testKernels(tb testing.TB) []testKernel {
	tb.Helper()
	kernels := []testKernel{}
	if _, err := os.Stat(vmlinuxPath); err == nil {
		kernels = append(kernels, testKernel{"running", vmlinuxPath})
	}
	if release := os.Getenv("BPFKIT_VMTEST"); release != "" {
		// In the VM tests the running kernel is one of Debian's.
		if len(kernels) == 0 {
			tb.Skipf("kernel %s has no /sys/kernel/btf/vmlinux", release)
		}
		return kernels
	}
	for _, tool := range []string{"go", "apt-get", "dpkg-deb", "xz", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s not installed: cannot fetch the Debian kernels' BTF", tool)
		}
	}
	debianBTF.once.Do(func() { debianBTF.files, debianBTF.err = fetchDebianBTF() })
	if debianBTF.err != nil {
		tb.Fatal(debianBTF.err)
	}
	return append(kernels, debianBTF.files...)
}

func fetchDebianBTF() ([]testKernel, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "run", "./internal/cmd/vmtest", "-fetch", "-debian", strings.Join(debianKernels, ","))
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("vmtest -fetch: %w\n%s", err, stderr.Bytes())
	}
	var kernels []testKernel
	for _, line := range strings.Split(string(out), "\n") {
		image, ok := strings.CutPrefix(line, "image ")
		if !ok {
			continue
		}
		cached := filepath.Join(root, ".vmtest", "btf", filepath.Base(image)+".btf")
		if _, err := os.Stat(cached); err != nil {
			raw, err := bzImageBTF(image)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", image, err)
			}
			if err := writeFileAtomic(cached, raw); err != nil {
				return nil, err
			}
		}
		release := strings.TrimPrefix(filepath.Base(image), "vmlinuz-")
		kernels = append(kernels, testKernel{release, cached})
	}
	if len(kernels) != len(debianKernels) {
		return nil, fmt.Errorf("vmtest -fetch printed %d images for %d packages:\n%s", len(kernels), len(debianKernels), out)
	}
	return kernels, nil
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// bzImageBTF returns the .BTF section of the vmlinux compressed inside an
// x86 bzImage. The setup header (Documentation/arch/x86/boot.rst) gives
// the payload's place; x86 payloads are the compressed ELF file followed
// by its 4-byte uncompressed size.
func bzImageBTF(image string) ([]byte, error) {
	b, err := os.ReadFile(image)
	if err != nil {
		return nil, err
	}
	if len(b) < 0x250 || string(b[0x202:0x206]) != "HdrS" {
		return nil, errors.New("not a bzImage (no HdrS setup header)")
	}
	setupSects := int(b[0x1f1])
	if setupSects == 0 {
		setupSects = 4
	}
	off := (setupSects+1)*512 + int(binary.LittleEndian.Uint32(b[0x248:]))
	n := int(binary.LittleEndian.Uint32(b[0x24c:]))
	if n < 4 || off+n > len(b) {
		return nil, fmt.Errorf("payload %d+%d beyond the %d-byte image", off, n, len(b))
	}
	payload := b[off : off+n]

	var vmlinux []byte
	switch {
	case bytes.HasPrefix(payload, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		zr.Multistream(false)
		if vmlinux, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	case bytes.HasPrefix(payload, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		vmlinux, err = decompress(payload[:n-4], "xz", "-dc", "--single-stream")
	case bytes.HasPrefix(payload, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		vmlinux, err = decompress(payload[:n-4], "zstd", "-dcq")
	default:
		return nil, fmt.Errorf("payload compression with magic % x not supported", payload[:min(6, len(payload))])
	}
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(vmlinux))
	if err != nil {
		return nil, fmt.Errorf("decompressed payload: %w", err)
	}
	sec := f.Section(".BTF")
	if sec == nil {
		return nil, errors.New("vmlinux has no .BTF section (kernel built without CONFIG_DEBUG_INFO_BTF)")
	}
	return sec.Data()
}

func decompress(data []byte, tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(tool, args...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", tool, err, stderr.Bytes())
	}
	return out, nil
}
