package btf

import (
	"encoding/binary"
	"os"
	"runtime"
	"testing"
)

// vmlinuxBenchTypes are the structs of the shared BenchmarkVmlinuxParse.
var vmlinuxBenchTypes = []string{"task_struct", "sk_buff", "file", "inode", "sock", "net_device",
	"mm_struct", "cred", "pt_regs", "bpf_map", "bpf_prog", "cgroup", "dentry", "super_block",
	"page", "xdp_md", "__sk_buff", "iphdr", "tcphdr", "sockaddr_in"}

func requireVmlinux(tb testing.TB) {
	tb.Helper()
	if _, err := LoadSpec(vmlinuxPath); err != nil {
		tb.Skip("kernel BTF not available:", err)
	}
}

const vmlinuxPath = "/sys/kernel/btf/vmlinux"

// BenchmarkVmlinuxParse: what the shared BenchmarkVmlinuxParse measures.
// Where the kernel lets us map its BTF (6.15+), every LoadSpec after the
// first reuses the index of the mapping (mmap.go), so this is a new Spec
// and its decoding; BenchmarkVmlinuxParseCold adds the indexing.
func BenchmarkVmlinuxParse(b *testing.B) {
	requireVmlinux(b)
	b.ReportAllocs()
	for b.Loop() {
		spec, err := LoadSpec(vmlinuxPath)
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range vmlinuxBenchTypes {
			var s *Struct
			if err := spec.TypeByName(name, &s); err != nil {
				b.Fatal(name, err)
			}
		}
	}
}

// BenchmarkVmlinuxParseCold: like BenchmarkVmlinuxParse, but indexing
// the kernel's BTF every time, as the first LoadSpec of a process does.
func BenchmarkVmlinuxParseCold(b *testing.B) {
	requireVmlinux(b)
	data, err := os.ReadFile(vmlinuxPath)
	if err != nil {
		b.Fatal(err)
	}
	if km, ok := mapKernelBTF(vmlinuxPath); ok {
		data = km.data
	}
	b.ReportAllocs()
	for b.Loop() {
		raw, err := newRawSpec(data, nil)
		if err != nil {
			b.Fatal(err)
		}
		spec := newSpec(raw)
		for _, name := range vmlinuxBenchTypes {
			var s *Struct
			if err := spec.TypeByName(name, &s); err != nil {
				b.Fatal(name, err)
			}
		}
	}
}

func BenchmarkVmlinuxRetained(b *testing.B) {
	requireVmlinux(b)
	var keep []*Spec
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		spec, err := LoadSpec(vmlinuxPath)
		if err != nil {
			b.Fatal(err)
		}
		var s *Struct
		if err := spec.TypeByName("task_struct", &s); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		keep = append(keep, spec)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc), "retained-B")
		keep = keep[:0]
	}
	runtime.KeepAlive(keep)
}

func BenchmarkVmlinuxAll(b *testing.B) {
	requireVmlinux(b)
	b.ReportAllocs()
	for b.Loop() {
		spec, err := LoadSpec(vmlinuxPath)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, err := range spec.All() {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
}

// BenchmarkVmlinuxIndex: only the load-time pass over the kernel's BTF
// (checkpoints, name index), from the mapping and from heap memory.
func BenchmarkVmlinuxIndex(b *testing.B) {
	requireVmlinux(b)
	data, err := os.ReadFile(vmlinuxPath)
	if err != nil {
		b.Fatal(err)
	}
	var mapped []byte
	if km, ok := mapKernelBTF(vmlinuxPath); ok {
		mapped = km.data
	}
	for _, c := range []struct {
		name string
		data []byte
	}{{"heap", data}, {"mmap", mapped}} {
		if c.data == nil {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := newRawSpec(c.data, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVmlinuxDecode: only decoding the 20 structs (and what they
// reference) from an existing index.
func BenchmarkVmlinuxDecode(b *testing.B) {
	requireVmlinux(b)
	spec, err := LoadSpec(vmlinuxPath)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		view := newSpec(spec.raw)
		for _, name := range vmlinuxBenchTypes {
			var s *Struct
			if err := view.TypeByName(name, &s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkMarshalVmlinux: encoding every kernel type.
func BenchmarkMarshalVmlinux(b *testing.B) {
	requireVmlinux(b)
	spec, err := LoadSpec(vmlinuxPath)
	if err != nil {
		b.Fatal(err)
	}
	var types []Type
	for typ, err := range spec.All() {
		if err != nil {
			b.Fatal(err)
		}
		types = append(types, typ)
	}
	b.ReportAllocs()
	for b.Loop() {
		builder, err := NewBuilder(types, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := builder.Marshal(nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCORERelocate: relocating the test object with CO-RE
// relocations against the kernel, with a fresh kernel view each time.
func BenchmarkCORERelocate(b *testing.B) {
	kernel, err := LoadKernelSpec()
	if err != nil {
		b.Skip("no kernel BTF:", err)
	}
	f, err := os.Open("../testdata/core-el.elf")
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	spec, ext, err := LoadSpecAndExtInfosFromReader(f)
	if err != nil {
		b.Fatal(err)
	}
	var relos []*CORERelocation
	for _, r := range ext.CORERelos["tc"] {
		relos = append(relos, r.Relo)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CORERelocate(relos, []*Spec{newSpec(kernel.raw)}, binary.LittleEndian, spec.TypeID); err != nil {
			b.Fatal(err)
		}
	}
}
