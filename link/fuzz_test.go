package link

import (
	"debug/elf"
	"encoding/binary"
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
		probes, _ := ex.USDTProbes()
		for i := range probes {
			probes[i].Arguments()
		}
	})
}

// FuzzUSDTNotes feeds arbitrary bytes to the .note.stapsdt decoder, in
// every class and byte order, and the argument strings it finds to the
// argument parser of every architecture. Seeds: synthetic notes and, where
// the files exist, the note sections of python3.11 and libstdc++.
func FuzzUSDTNotes(f *testing.F) {
	le := binary.LittleEndian
	f.Add(stapsdtNote(le, elf.ELFCLASS64, "stapsdt", 3, 0x1000, 0x2000, 0x3000, "prov", "probe", "-4@%edi 8@-8(%rbp,%rax,8)"))
	f.Add(stapsdtNote(le, elf.ELFCLASS64, "stapsdt", 3, 0x1000, 0, 0, "p", "arm", "-4@[sp, 96] 8@x1 4@5"))
	f.Add(stapsdtNote(le, elf.ELFCLASS64, "stapsdt", 3, 0x1000, 0, 0, "p", "s390", "-2@-28(%r15) 8@%r0 4@71"))
	f.Add(stapsdtNote(le, elf.ELFCLASS32, "GNU", 1, 1, 2, 3, "a", "b", ""))
	for _, path := range []string{"/usr/bin/python3.11", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"} {
		if ef, err := elf.Open(path); err == nil {
			if sec := ef.Section(usdtNoteSection); sec != nil {
				if data, err := sec.Data(); err == nil {
					f.Add(data)
				}
			}
			ef.Close()
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, class := range []elf.Class{elf.ELFCLASS32, elf.ELFCLASS64} {
			for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
				notes, err := parseUSDTNotes(data, class, bo)
				if err != nil {
					continue
				}
				for _, n := range notes {
					for _, arch := range usdtArches {
						if args, err := parseUSDTArgs(arch.machine, n.args); err == nil {
							if len(args) > usdtMaxArgs {
								t.Fatalf("%d arguments", len(args))
							}
							marshalUSDTSpec(args, 0, bo)
						}
					}
				}
			}
		}
	})
}

// FuzzUSDTArgs feeds arbitrary argument strings to the parser of every
// architecture: errors, never panics; what parses encodes.
func FuzzUSDTArgs(f *testing.F) {
	for _, s := range []string{
		"-4@-1204(%rbp) -4@%edi -8@-1216(%rbp) -8@%r8 -4@$5 -8@%r9 8@%rdx 8@%r10 -4@$-9 -2@%cx -2@%ax -1@%sil",
		"-4@16(%rdi,%rsi,4) 1@(%rbp,%rax) 8@$0x10",
		"-4@[sp, 96] 8@[x29] 8@x1 -4@w3 4@5",
		"-2@-28(%r15) 8@(%r2) -8@%r0 4@71",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		for _, arch := range usdtArches {
			args, err := parseUSDTArgs(arch.machine, spec)
			if err != nil {
				continue
			}
			for _, a := range args {
				if a.Size != 1 && a.Size != 2 && a.Size != 4 && a.Size != 8 {
					t.Fatalf("%s: %q: size %d", arch.name, a.Spec, a.Size)
				}
			}
			marshalUSDTSpec(args, 1, binary.LittleEndian)
		}
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
