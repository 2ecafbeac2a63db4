package btf

import (
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
