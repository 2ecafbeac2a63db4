package link

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzExecutable feeds arbitrary files to OpenExecutable and the symbol
// lookups of uprobes: they must return errors, never panic, hang or
// allocate out of proportion. Seeds: every test object (ELF relocatable
// files of both byte orders).
func FuzzExecutable(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("..", "testdata", "*.elf"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range seeds {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("\x7fELF"))
	// The input lives in memory; OpenExecutable opens it by path.
	mfd, err := unix.MemfdCreate("fuzz-exe", unix.MFD_CLOEXEC)
	if err != nil {
		f.Fatal(err)
	}
	mem := os.NewFile(uintptr(mfd), "fuzz-exe")
	f.Cleanup(func() { mem.Close() })
	path := fmt.Sprintf("/proc/self/fd/%d", mfd)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := mem.Truncate(0); err != nil {
			t.Fatal(err)
		}
		if _, err := mem.WriteAt(raw, 0); err != nil {
			t.Fatal(err)
		}
		ex, err := OpenExecutable(path)
		if err != nil {
			return
		}
		ex.address("main", 0, 0)
		ex.address("", 0x10, 1)
		ex.Symbol(0x40)
	})
}

// BenchmarkLinkInfo measures Info of a raw tracepoint link, whose name
// takes a second bpf(2) call.
func BenchmarkLinkInfo(b *testing.B) {
	l, _ := rawTracepointLink(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Info(); err != nil {
			b.Fatal(err)
		}
	}
}
