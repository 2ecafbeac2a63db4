package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestBTFHeader(t *testing.T) {
	file := object("btf_kinds")
	out, errOut, code := bpfobj(t, "btf", file)
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", errOut))

	spec, err := btf.LoadSpec(file)
	qt.Assert(t, qt.IsNil(err))
	var want bytes.Buffer
	cf := btf.CFormatter{Guard: "__VMLINUX_H__", PreserveAccessIndex: true, Kfuncs: true}
	qt.Assert(t, qt.IsNil(cf.WriteSpec(&want, spec)))
	qt.Assert(t, qt.Equals(out, want.String()))

	// -o writes the same to a file; -format c is the default.
	path := filepath.Join(t.TempDir(), "vmlinux.h")
	_, _, code = bpfobj(t, "btf", "-format", "c", "-o", path, file)
	qt.Assert(t, qt.Equals(code, exitOK))
	written, err := os.ReadFile(path)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(string(written), out))

	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err == nil {
		out, _, code := bpfobj(t, "btf", "vmlinux")
		qt.Assert(t, qt.Equals(code, exitOK))
		qt.Assert(t, qt.StringContains(out, "\nstruct task_struct {\n"))
	}
}

func TestBTFUsage(t *testing.T) {
	for _, args := range [][]string{
		{"btf"},
		{"btf", "a", "b"},
		{"btf", "-format", "go", "x"},
		{"-json", "btf", "x"},
		{"btf", "-min-core", "vmlinux", "a.o"},
		{"btf", "-min-core", "-o", "x.btf", "vmlinux"},
		{"map"},
		{"map", "show", "1"},
		{"map", "dump"},
		{"map", "dump", "1", "2"},
	} {
		_, errOut, code := bpfobj(t, args...)
		qt.Check(t, qt.Equals(code, exitUsage), qt.Commentf("%q: %s", args, errOut))
	}
	_, errOut, code := bpfobj(t, "btf", filepath.Join(t.TempDir(), "missing"))
	qt.Check(t, qt.Equals(code, exitFailure))
	qt.Check(t, qt.StringContains(errOut, "missing"))
}

// TestBTFMinCore writes the minimal BTF of the CO-RE test objects and
// loads one of them with it as KernelTypes.
func TestBTFMinCore(t *testing.T) {
	_, err := btf.LoadKernelSpec()
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	out := filepath.Join(t.TempDir(), "min.btf")
	r, errOut, code := bpfobjJSON(t, "btf", "-min-core", "-o", out, "vmlinux", object("core"), object("btf_core"))
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", errOut))
	qt.Assert(t, qt.IsNotNil(r.BTF))
	qt.Check(t, qt.Equals(r.BTF.Relocations, 34))
	raw, err := os.ReadFile(out)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(r.BTF.Bytes, len(raw)))
	min, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	qt.Assert(t, qt.IsNil(err))
	var task *btf.Struct
	qt.Assert(t, qt.IsNil(min.TypeByName("task_struct", &task)))

	text, _, code := bpfobj(t, "btf", "-min-core", "-o", out, "vmlinux", object("core"))
	qt.Assert(t, qt.Equals(code, exitOK))
	qt.Check(t, qt.Matches(text, `.*min.btf: \d+ bytes, \d+ types for 23 CO-RE relocations of 1 object \(from vmlinux\)\n`))

	// An object without CO-RE relocations has nothing to minimize.
	_, errOut, code = bpfobj(t, "btf", "-min-core", "-o", out, "vmlinux", object("globals"))
	qt.Check(t, qt.Equals(code, exitFailure))
	qt.Check(t, qt.StringContains(errOut, "no CO-RE relocations"))

	if os.Geteuid() != 0 {
		return
	}
	spec, err := ebpf.LoadCollectionSpec(object("core"))
	qt.Assert(t, qt.IsNil(err))
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{KernelTypes: min}})
	// core.c calls bpf_cast_to_kern_ctx (Linux 6.2).
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	coll.Close()
}

// TestMapDump dumps maps made here: BTF-typed hash and per-CPU array,
// by ID and by pin, as text and JSON.
func TestMapDump(t *testing.T) {
	testutils.RequireRoot(t)
	u32 := &btf.Int{Name: "u32", Size: 4}
	value := &btf.Struct{Name: "pair", Size: 8, Members: []btf.Member{
		{Name: "a", Type: u32}, {Name: "b", Type: u32, Offset: 32},
	}}
	hash, err := ebpf.NewMap(&ebpf.MapSpec{Name: "dump_hash", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4, Key: u32, Value: value})
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	defer hash.Close()
	qt.Assert(t, qt.IsNil(hash.Put(uint32(7), [2]uint32{1, 2})))
	pin := filepath.Join(testutils.TempBPFFS(t), "hash")
	qt.Assert(t, qt.IsNil(hash.Pin(pin)))

	out, errOut, code := bpfobj(t, "map", "dump", pin)
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", errOut))
	qt.Check(t, qt.StringContains(out, "MAP dump_hash (id "))
	qt.Check(t, qt.StringContains(out, ": Hash, key 4 u32, value 8 struct pair, max 4 entries\n"))
	qt.Check(t, qt.StringContains(out, "  [7] = {a: 1, b: 2}\n1 entry\n"))

	r, _, code := bpfobjJSON(t, "map", "dump", pin)
	qt.Assert(t, qt.Equals(code, exitOK))
	qt.Assert(t, qt.HasLen(r.Map.Entries, 1))
	e := r.Map.Entries[0]
	qt.Check(t, qt.Equals(e.KeyHex, hexOf(uint32(7))))
	formatted, err := json.Marshal(e.Formatted)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(string(formatted), `{"key":7,"value":{"a":1,"b":2}}`))

	percpu, err := ebpf.NewMap(&ebpf.MapSpec{Name: "dump_percpu", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 1, Key: u32, Value: u32})
	qt.Assert(t, qt.IsNil(err))
	defer percpu.Close()
	cpus, err := ebpf.PossibleCPU()
	qt.Assert(t, qt.IsNil(err))
	values := make([]uint32, cpus)
	for i := range values {
		values[i] = uint32(10 + i)
	}
	qt.Assert(t, qt.IsNil(percpu.Put(uint32(0), values)))
	info, err := percpu.Info()
	qt.Assert(t, qt.IsNil(err))
	id, _ := info.ID()
	r, _, code = bpfobjJSON(t, "map", "dump", strings.TrimSpace(itoa(uint64(id))))
	qt.Assert(t, qt.Equals(code, exitOK))
	qt.Assert(t, qt.IsTrue(r.Map.PerCPU))
	qt.Assert(t, qt.HasLen(r.Map.Entries[0].Values, cpus))
	qt.Check(t, qt.Equals(r.Map.Entries[0].Values[0], "10"))

	_, errOut, code = bpfobj(t, "map", "dump", "4294967295")
	qt.Check(t, qt.Equals(code, exitFailure))
	qt.Check(t, qt.StringContains(errOut, "map ID 4294967295"))
}

func hexOf(v uint32) string {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], v)
	return hexString(b[:])
}

func itoa(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
