package ebpf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
)

// testObjects returns the test objects of one byte order ("el" or "eb"),
// without their suffix: testdata/NAME-el.elf gives NAME.
func testObjects(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*-el.elf")
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Not(qt.HasLen(files, 0)))
	names := make([]string, 0, len(files))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), "-el.elf"); !isLinkInput(name) {
			names = append(names, name)
		}
	}
	return names
}

// isLinkInput reports whether a test object has externs that only another
// object defines: it is read after static linking (elf_link_test.go).
func isLinkInput(name string) bool {
	switch name {
	case "objlink_a", "err_objlink_extern_type", "err_objlink_kind", "err_objlink_map", "err_objlink_struct":
		return true
	}
	return false
}

// isInvalidObject reports whether a test object is broken on purpose for
// the ELF reader. err_* objects that only fail to load are not.
func isInvalidObject(name string) bool {
	switch name {
	case "err_extern_plain", "err_maps", "err_static_reloc", "elf_err_static_map":
		return true
	}
	return false
}

func mustLoad(t testing.TB, name, order string) *CollectionSpec {
	t.Helper()
	spec, err := LoadCollectionSpec("testdata/" + name + "-" + order + ".elf")
	qt.Assert(t, qt.IsNil(err))
	return spec
}

// specOptions compare CollectionSpecs of two reads: BTF specs are opaque,
// byte orders are compared by identity.
var specOptions = cmp.Options{
	cmp.Comparer(func(a, b *btf.Spec) bool { return (a == nil) == (b == nil) }),
	cmp.Comparer(func(a, b binary.ByteOrder) bool { return a == b }),
	cmp.Comparer(func(a, b *bytes.Reader) bool {
		if a == nil || b == nil {
			return a == b
		}
		x, _ := io.ReadAll(io.NewSectionReader(a, 0, a.Size()))
		y, _ := io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
		return bytes.Equal(x, y)
	}),
}

func TestLoadCollectionSpecAll(t *testing.T) {
	for _, name := range testObjects(t) {
		for _, order := range []string{"el", "eb"} {
			t.Run(name+"-"+order, func(t *testing.T) {
				file := "testdata/" + name + "-" + order + ".elf"
				spec, err := LoadCollectionSpec(file)
				if isInvalidObject(name) {
					qt.Assert(t, qt.IsNotNil(err))
					qt.Assert(t, qt.StringContains(err.Error(), file))
					return
				}
				qt.Assert(t, qt.IsNil(err))

				want := binary.ByteOrder(binary.LittleEndian)
				if order == "eb" {
					want = binary.BigEndian
				}
				qt.Assert(t, qt.Equals(spec.ByteOrder, want))
				qt.Assert(t, qt.IsNotNil(spec.Types))
				for pname, p := range spec.Programs {
					qt.Assert(t, qt.Equals(p.Name, pname))
					qt.Assert(t, qt.Equals(p.ByteOrder, want))
					qt.Assert(t, qt.Not(qt.HasLen(p.Instructions, 0)))
					qt.Assert(t, qt.Equals(p.Instructions[0].Symbol(), pname))
					qt.Assert(t, qt.Not(qt.Equals(p.SectionName, ".text")))
				}
				for vname, v := range spec.Variables {
					qt.Assert(t, qt.Equals(v.Name, vname))
					m := spec.Maps[v.SectionName]
					qt.Assert(t, qt.IsNotNil(m), qt.Commentf("variable %s", vname))
					data := m.Contents[0].Value.([]byte)
					qt.Assert(t, qt.DeepEquals(v.Value, data[v.Offset:int(v.Offset)+len(v.Value)]))
					if v.Type != nil {
						qt.Assert(t, qt.Equals(v.Type.Name, vname))
					}
				}

				// Reading is deterministic, from a file or a reader.
				raw, err := os.ReadFile(file)
				qt.Assert(t, qt.IsNil(err))
				again, err := LoadCollectionSpecFromReader(bytes.NewReader(raw))
				qt.Assert(t, qt.IsNil(err))
				qt.Assert(t, qt.CmpEquals(again, spec, specOptions...))

				// Copies are deep and equal.
				qt.Assert(t, qt.CmpEquals(spec.Copy(), spec, specOptions...))
			})
		}
	}
}

// TestLoadCollectionSpecByteOrders checks that both byte orders of an
// object give the same spec, but for the bytes of data.
func TestLoadCollectionSpecByteOrders(t *testing.T) {
	sameLength := cmp.Options{
		cmp.FilterPath(func(p cmp.Path) bool {
			// Data section contents, variable values and legacy map tails
			// hold integers in the object's byte order.
			s := p.GoString()
			return strings.HasSuffix(s, ".Value") && (strings.Contains(s, "Contents") || strings.Contains(s, "Variables"))
		}, cmp.Comparer(func(a, b any) bool {
			x, ok1 := a.([]byte)
			y, ok2 := b.([]byte)
			if ok1 && ok2 {
				return len(x) == len(y)
			}
			return cmp.Equal(a, b)
		})),
		cmp.Comparer(func(a, b *bytes.Reader) bool { return (a == nil) == (b == nil) && (a == nil || a.Size() == b.Size()) }),
		cmpopts.IgnoreFields(CollectionSpec{}, "ByteOrder", "Types"),
		cmpopts.IgnoreFields(ProgramSpec{}, "ByteOrder"),
		// The compiler generates code for the byte order (constants that
		// pack fields, bitfield accesses); compare functions and references.
		cmp.Transformer("references", func(insns asm.Instructions) []string {
			var out []string
			for _, ins := range insns {
				if ins.Symbol() != "" || ins.Reference() != "" {
					out = append(out, fmt.Sprintf("%s -> %s", ins.Symbol(), ins.Reference()))
				}
			}
			return out
		}),
	}
	for _, name := range testObjects(t) {
		if isInvalidObject(name) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			el := mustLoad(t, name, "el")
			eb := mustLoad(t, name, "eb")
			qt.Assert(t, qt.CmpEquals(eb, el, sameLength...))
		})
	}
}

func TestLoadCollectionSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  string
	}{
		{"err_extern_plain", `section "tc": program "use_undefined": instruction 0: extern variable "bpfkit_undefined" is in neither .ksyms nor .kconfig`},
		{"err_maps", `section ".maps": map "bad_type": member "type": expected a pointer to an array`},
		{"err_static_reloc", `section "tc": program "use_static": instruction 0: reference to "bpfkit_unknown" in section "bpfkit_unknown", which holds neither maps, variables nor functions`},
		{"elf_err_static_map", `section ".maps": map "counts" is static: maps must be global`},
	} {
		for _, order := range []string{"el", "eb"} {
			t.Run(tc.name+"-"+order, func(t *testing.T) {
				_, err := LoadCollectionSpec("testdata/" + tc.name + "-" + order + ".elf")
				qt.Assert(t, qt.ErrorMatches(err, `file testdata/`+tc.name+`-`+order+`.elf: `+regexpQuote(tc.err)+`.*`))
			})
		}
	}

	_, err := LoadCollectionSpec("testdata/err_static_reloc-el.elf")
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
	_, err = LoadCollectionSpec("testdata/does-not-exist.elf")
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// mapFields is what a test asserts about a map: everything but BTF types,
// which mapTypes checks by name.
type mapFields struct {
	Type                           MapType
	KeySize, ValueSize, MaxEntries uint32
	Flags                          uint32
	Pinning                        PinType
	NumaNode                       uint32
	MapExtra                       uint64
	Key, Value                     string
	Contents                       []MapKV
	Inner                          *mapFields
}

func fieldsOf(m *MapSpec) *mapFields {
	if m == nil {
		return nil
	}
	return &mapFields{m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags, m.Pinning, m.NumaNode, m.MapExtra,
		typeName(m.Key), typeName(m.Value), m.Contents, fieldsOf(m.InnerMap)}
}

// typeName names a BTF type, or its kind if it is anonymous.
func typeName(t btf.Type) string {
	if t == nil {
		return ""
	}
	if n := t.TypeName(); n != "" {
		return n
	}
	switch t.(type) {
	case *btf.Array:
		return "Array"
	case *btf.Int:
		return "Int"
	case *btf.Void:
		return "Void"
	}
	return "?"
}

func TestLoadBTFMaps(t *testing.T) {
	spec := mustLoad(t, "maps_btf", "el")
	got := map[string]*mapFields{}
	for name, m := range spec.Maps {
		qt.Assert(t, qt.Equals(m.Name, name))
		got[name] = fieldsOf(m)
	}
	want := map[string]*mapFields{
		"hash":            {Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 8, Key: "__u32", Value: "__u64"},
		"array":           {Type: Array, KeySize: 4, ValueSize: 16, MaxEntries: 4, Key: "__u32", Value: "value_t"},
		"percpu_hash":     {Type: PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 8, Key: "__u32", Value: "__u64"},
		"percpu_array":    {Type: PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 2, Key: "__u32", Value: "__u64"},
		"lru_hash":        {Type: LRUHash, KeySize: 8, ValueSize: 8, MaxEntries: 16, Flags: unix.BPF_F_NO_COMMON_LRU, Key: "__u64", Value: "__u64"},
		"lru_percpu_hash": {Type: LRUCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 16, Key: "__u32", Value: "__u32"},
		"lpm":             {Type: LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 16, Flags: unix.BPF_F_NO_PREALLOC, Key: "lpm_key", Value: "__u32"},
		"ringbuf":         {Type: RingBuf, MaxEntries: 65536},
		"perf_events":     {Type: PerfEventArray, KeySize: 4, ValueSize: 4},
		"queue":           {Type: Queue, ValueSize: 4, MaxEntries: 8, Value: "__u32"},
		"stack":           {Type: Stack, ValueSize: 4, MaxEntries: 8, Value: "__u32"},
		"bloom":           {Type: BloomFilter, ValueSize: 4, MaxEntries: 64, MapExtra: 3, Value: "__u32"},
		"numa":            {Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4, Flags: unix.BPF_F_NUMA_NODE, Key: "__u32", Value: "__u32"},
		"mmapable":        {Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 8, Flags: unix.BPF_F_MMAPABLE, Key: "__u32", Value: "__u64"},
		"pinned":          {Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4, Pinning: PinByName, Key: "__u32", Value: "__u32"},
		"sized":           {Type: Array, KeySize: 4, ValueSize: 12, MaxEntries: 2},
		"sk_storage":      {Type: SkStorage, KeySize: 4, ValueSize: 8, Flags: unix.BPF_F_NO_PREALLOC, Key: "int", Value: "__u64"},
		"task_storage":    {Type: TaskStorage, KeySize: 4, ValueSize: 8, Flags: unix.BPF_F_NO_PREALLOC, Key: "int", Value: "__u64"},
		"sockmap":         {Type: SockMap, KeySize: 4, ValueSize: 8, MaxEntries: 2, Key: "__u32", Value: "__u64"},
		"devmap":          {Type: DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 2, Key: "__u32", Value: "__u32"},
		"stack_trace":     {Type: StackTrace, KeySize: 4, ValueSize: 1016, MaxEntries: 16, Key: "__u32", Value: "Array"},
	}
	qt.Assert(t, qt.DeepEquals(got, want))

	arena := mustLoad(t, "map_arena", "el").Maps["arena"]
	qt.Assert(t, qt.DeepEquals(fieldsOf(arena), &mapFields{Type: Arena, MaxEntries: 2, Flags: unix.BPF_F_MMAPABLE, MapExtra: 1 << 44}))
}

func TestLoadMapValues(t *testing.T) {
	spec := mustLoad(t, "map_values", "el")
	inner := &mapFields{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1, Key: "__u32", Value: "__u32"}
	want := map[string]*mapFields{
		"jump_table": {Type: ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4,
			Contents: []MapKV{{uint32(1), "tail_1"}, {uint32(2), "tail_2"}}},
		"outer_array": {Type: ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, Key: "__u32",
			Contents: []MapKV{{uint32(0), "inner_a"}, {uint32(1), "inner_b"}}, Inner: inner},
		"outer_hash": {Type: HashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4, Key: "__u32",
			Contents: []MapKV{{uint32(3), "inner_h"}},
			Inner:    &mapFields{Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 2, Key: "__u32", Value: "__u64"}},
		"outer_empty": {Type: ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, Key: "__u32", Inner: inner},
		"inner_a":     inner,
		"inner_b":     inner,
		"inner_h":     {Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 2, Key: "__u32", Value: "__u64"},
	}
	got := map[string]*mapFields{}
	for name, m := range spec.Maps {
		got[name] = fieldsOf(m)
	}
	qt.Assert(t, qt.DeepEquals(got, want))
	qt.Assert(t, qt.Equals(spec.Maps["outer_array"].InnerMap.Name, "outer_array_inner"))
}

func TestLoadLegacyMaps(t *testing.T) {
	for _, order := range []string{"el", "eb"} {
		spec := mustLoad(t, "maps_legacy", order)
		got := map[string]*mapFields{}
		for name, m := range spec.Maps {
			got[name] = fieldsOf(m)
			qt.Assert(t, qt.IsNil(m.Extra))
		}
		qt.Assert(t, qt.DeepEquals(got, map[string]*mapFields{
			"legacy_array":  {Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 2},
			"legacy_hash":   {Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16, Flags: unix.BPF_F_NO_PREALLOC},
			"legacy_percpu": {Type: PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 1},
		}))

		// iproute2's bpf_elf_map: the fields after the first five stay in
		// Extra, read past id and pinning (which the reader understands),
		// and PIN_GLOBAL_NS pins by name.
		spec = mustLoad(t, "maps_iproute2", order)
		got = map[string]*mapFields{}
		for name, m := range spec.Maps {
			got[name] = fieldsOf(m)
			qt.Assert(t, qt.Equals(m.Extra.Size(), 16))
			qt.Assert(t, qt.Equals(m.Extra.Len(), 8))
			_, err := m.Extra.Seek(0, io.SeekStart)
			qt.Assert(t, qt.IsNil(err))
		}
		qt.Assert(t, qt.DeepEquals(got, map[string]*mapFields{
			"counters": {Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Pinning: PinByName},
			"flows":    {Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 128, Flags: unix.BPF_F_NO_PREALLOC},
		}))
		var extra struct{ ID, Pinning, InnerID, InnerIdx uint32 }
		qt.Assert(t, qt.IsNil(binary.Read(spec.Maps["flows"].Extra, spec.ByteOrder, &extra)))
		qt.Assert(t, qt.Equals(extra.ID, 7))
		qt.Assert(t, qt.Equals(spec.Programs["cls"].Type, SchedCLS))
		qt.Assert(t, qt.Equals(spec.Programs["act"].Type, SchedACT))
	}
}

func TestLoadDataSections(t *testing.T) {
	spec := mustLoad(t, "globals", "el")
	le := binary.LittleEndian
	u16 := func(v uint16) []byte { return le.AppendUint16(nil, v) }
	u32 := func(v uint32) []byte { return le.AppendUint32(nil, v) }
	u64 := func(v uint64) []byte { return le.AppendUint64(nil, v) }
	type varFields struct {
		Section string
		Offset  uint32
		Value   []byte
	}
	got := map[string]varFields{}
	for name, v := range spec.Variables {
		got[name] = varFields{v.SectionName, v.Offset, v.Value}
	}
	qt.Assert(t, qt.DeepEquals(got, map[string]varFields{
		"data_u64":      {".data", 0, u64(0x0102030405060708)},
		"data_u32":      {".data", 8, u32(42)},
		"data_bytes":    {".data", 12, []byte{1, 2, 3, 4, 5}},
		"data_pair":     {".data", 18, []byte{7, 0, 0xf9, 0xff}},
		"bss_u64":       {".bss", 8, make([]byte, 8)},
		"bss_arr":       {".bss", 16, make([]byte, 16)},
		"ret_value":     {".rodata", 0, u32(7)},
		"rodata_u64":    {".rodata", 8, u64(0x1122334455667788)},
		"rodata_str":    {".rodata", 16, []byte("abc\x00\x00\x00\x00\x00")},
		"custom_u32":    {".data.custom", 0, u32(0xcafe)},
		"custom_ro_u16": {".rodata.custom", 0, u16(0xbeef)},
	}))

	for name, m := range spec.Maps {
		qt.Assert(t, qt.Equals(m.Name, name))
		qt.Assert(t, qt.Equals(m.Type, Array))
		qt.Assert(t, qt.Equals(m.KeySize, 4))
		qt.Assert(t, qt.Equals(m.MaxEntries, 1))
		qt.Assert(t, qt.HasLen(m.Contents, 1))
		qt.Assert(t, qt.Equals(m.Contents[0].Key, any(uint32(0))))
		qt.Assert(t, qt.HasLen(m.Contents[0].Value.([]byte), int(m.ValueSize)))
		ds, ok := m.Value.(*btf.Datasec)
		qt.Assert(t, qt.IsTrue(ok))
		qt.Assert(t, qt.Equals(ds.Name, name))
		qt.Assert(t, qt.Equals(ds.Size, m.ValueSize))
		wantFlags := uint32(0)
		if strings.HasPrefix(name, ".rodata") {
			wantFlags = unix.BPF_F_RDONLY_PROG
		}
		qt.Assert(t, qt.Equals(m.Flags, wantFlags))
	}
	qt.Assert(t, qt.HasLen(spec.Maps, 5))
	qt.Assert(t, qt.Equals(spec.Maps[".bss"].ValueSize, 32))

	// Setting a variable leaves the data section alone.
	v := spec.Variables["ret_value"]
	qt.Assert(t, qt.IsTrue(v.Constant()))
	qt.Assert(t, qt.IsNil(v.Set(uint32(1234))))
	qt.Assert(t, qt.DeepEquals(spec.Maps[".rodata"].Contents[0].Value.([]byte)[:4], u32(7)))
	qt.Assert(t, qt.DeepEquals(spec.Variables["rodata_u64"].Value, u64(0x1122334455667788)))

	// The static variable is in the BTF of .bss but has no VariableSpec.
	qt.Assert(t, qt.IsNil(spec.Variables["static_counter"]))
	qt.Assert(t, qt.Equals(spec.Maps[".bss"].Value.(*btf.Datasec).Vars[0].Type.TypeName(), "static_counter"))

	// Loads of globals refer to their section with the offset in the
	// upper half of the constant.
	insns := spec.Programs["read_globals"].Instructions
	refs := map[string]bool{}
	for _, ins := range insns {
		if ins.IsLoadFromMap() {
			qt.Assert(t, qt.Equals(ins.Src, asm.PseudoMapValue))
			refs[ins.Reference()] = true
		}
	}
	qt.Assert(t, qt.DeepEquals(refs, map[string]bool{".data": true, ".bss": true, ".rodata": true, ".data.custom": true, ".rodata.custom": true}))
}

func TestLoadSubprograms(t *testing.T) {
	spec := mustLoad(t, "subprogs", "el")
	qt.Assert(t, qt.HasLen(spec.Programs, 2))

	symbols := func(insns asm.Instructions) []string {
		var syms []string
		for _, ins := range insns {
			if s := ins.Symbol(); s != "" {
				syms = append(syms, s)
			}
		}
		return syms
	}
	// Breadth-first, in sorted order of names.
	qt.Assert(t, qt.DeepEquals(symbols(spec.Programs["compute"].Instructions),
		[]string{"compute", "each_cb", "global_len", "global_mul", "hidden_sub", "loop_cb", "static_add"}))
	qt.Assert(t, qt.DeepEquals(symbols(spec.Programs["second"].Instructions),
		[]string{"second", "hidden_sub", "static_add"}))

	var calls, callbacks []string
	for _, ins := range spec.Programs["compute"].Instructions {
		switch {
		case ins.IsFunctionCall():
			calls = append(calls, ins.Reference())
			qt.Assert(t, qt.Equals(ins.Constant, -1))
		case ins.IsLoadOfFunctionPointer():
			callbacks = append(callbacks, ins.Reference())
			qt.Assert(t, qt.Equals(ins.Constant, -1))
		}
	}
	qt.Assert(t, qt.DeepEquals(calls, []string{"global_mul", "static_add", "hidden_sub", "global_len"}))
	qt.Assert(t, qt.DeepEquals(callbacks, []string{"loop_cb", "each_cb"}))

	// Function and line info reach the instructions.
	fn := btf.FuncMetadata(&spec.Programs["compute"].Instructions[0])
	qt.Assert(t, qt.IsNotNil(fn))
	qt.Assert(t, qt.Equals(fn.Name, "compute"))
	qt.Assert(t, qt.IsNotNil(spec.Programs["compute"].Instructions[0].Source()))
}

func TestLoadExterns(t *testing.T) {
	spec := mustLoad(t, "kconfig", "el")
	var kconfig []string
	var kmap *MapSpec
	for _, ins := range spec.Programs["read_kconfig"].Instructions {
		meta, _ := ins.Metadata.Get(kconfigMetaKey{}).(*kconfigMeta)
		if meta == nil {
			continue
		}
		qt.Assert(t, qt.Equals(ins.Src, asm.PseudoMapValue))
		kmap = meta.Map
		ds := kmap.Value.(*btf.Datasec)
		var name string
		for _, vsi := range ds.Vars {
			if vsi.Offset == meta.Offset {
				name = vsi.Type.TypeName()
			}
		}
		if meta.Binding == elf.STB_WEAK {
			name += " (weak)"
		}
		kconfig = append(kconfig, name)
	}
	qt.Assert(t, qt.IsNotNil(kmap))
	qt.Assert(t, qt.IsNil(spec.Maps[".kconfig"]))
	qt.Assert(t, qt.Equals(kmap.Name, ".kconfig"))
	qt.Assert(t, qt.Equals(kmap.Flags, unix.BPF_F_RDONLY_PROG))
	// int 4, bool 1, enum 4, char[16], u64 8, bool 1, each aligned.
	qt.Assert(t, qt.Equals(kmap.ValueSize, 4+4+1+3+4+16+8+1))
	offsets := map[string]uint32{}
	for _, vsi := range kmap.Value.(*btf.Datasec).Vars {
		offsets[vsi.Type.TypeName()] = vsi.Offset
	}
	qt.Assert(t, qt.DeepEquals(offsets, map[string]uint32{
		"LINUX_KERNEL_VERSION": 0, "CONFIG_HZ": 4, "CONFIG_BPF_SYSCALL": 8, "CONFIG_BPF_JIT": 12,
		"CONFIG_DEFAULT_HOSTNAME": 16, "CONFIG_BPFKIT_MISSING": 32, "CONFIG_BPFKIT_MISSING_BOOL": 40,
	}))
	qt.Assert(t, qt.ContentEquals(kconfig, []string{"LINUX_KERNEL_VERSION", "CONFIG_HZ", "CONFIG_BPF_SYSCALL",
		"CONFIG_BPF_JIT", "CONFIG_DEFAULT_HOSTNAME", "CONFIG_BPFKIT_MISSING (weak)", "CONFIG_BPFKIT_MISSING_BOOL (weak)"}))

	spec = mustLoad(t, "ksyms", "el")
	kfuncs := map[string]string{}
	ksyms := map[string]string{}
	for _, ins := range spec.Programs["use_ksyms"].Instructions {
		if meta, _ := ins.Metadata.Get(kfuncMetaKey{}).(*kfuncMeta); meta != nil {
			qt.Assert(t, qt.Equals(ins.Reference(), meta.Func.Name))
			kind := "load"
			if ins.IsKfuncCall() {
				kind = "call"
				qt.Assert(t, qt.Equals(ins.Constant, -1))
			}
			kfuncs[meta.Func.Name] = kind + " " + meta.Binding.String()
		}
		if meta, _ := ins.Metadata.Get(ksymMetaKey{}).(*ksymMeta); meta != nil {
			qt.Assert(t, qt.Equals(ins.Reference(), meta.Name))
			typed := "typed"
			if _, ok := btf.UnderlyingType(meta.Type).(*btf.Void); ok {
				typed = "typeless"
			}
			ksyms[meta.Name] = typed + " " + meta.Binding.String()
		}
	}
	qt.Assert(t, qt.DeepEquals(kfuncs, map[string]string{
		"bpf_task_from_pid": "call STB_GLOBAL", "bpf_task_acquire": "call STB_GLOBAL",
		"bpf_task_release": "call STB_GLOBAL", "bpf_bpfkit_missing_kfunc": "call STB_WEAK",
	}))
	qt.Assert(t, qt.DeepEquals(ksyms, map[string]string{
		"__start_BTF": "typeless STB_GLOBAL", "__stop_BTF": "typeless STB_GLOBAL", "bpfkit_missing_var": "typed STB_WEAK",
	}))
}

func TestLoadReferences(t *testing.T) {
	for _, order := range []string{"el", "eb"} {
		spec := mustLoad(t, "elf_refs", order)

		type ref struct {
			Ref      string
			Src      asm.Register
			Constant int64
		}
		var refs []ref
		for _, ins := range spec.Programs["sum_table"].Instructions {
			if r := ins.Reference(); r != "" {
				refs = append(refs, ref{r, ins.Src, ins.Constant})
			}
		}
		// Offsets in .data: table 0, weak_value 16, hidden_value 20; in
		// .rodata: greeting 0, answer 16.
		qt.Assert(t, qt.DeepEquals(refs, []ref{
			{".data", asm.PseudoMapValue, 0 << 32},
			{"add_cb", asm.PseudoFunc, -1},
			{".rodata", asm.PseudoMapValue, 0 << 32},
			{".data", asm.PseudoMapValue, 16 << 32},
			{".data", asm.PseudoMapValue, 20 << 32},
			{".rodata", asm.PseudoMapValue, 16 << 32},
		}))
		qt.Assert(t, qt.Equals(spec.Programs["sum_table"].Instructions[len(spec.Programs["sum_table"].Instructions)-6].Symbol(), "add_cb"))

		qt.Assert(t, qt.IsNotNil(spec.Variables["weak_value"]))
		qt.Assert(t, qt.IsNil(spec.Variables["hidden_value"]))
		qt.Assert(t, qt.IsNotNil(spec.Variables["table"]))
		// Statics have no VariableSpec.
		qt.Assert(t, qt.IsNil(spec.Variables["answer"]))
		qt.Assert(t, qt.HasLen(spec.Variables, 2))

		opt := spec.Programs["optional"]
		qt.Assert(t, qt.Equals(opt.SectionName, "?tc"))
		qt.Assert(t, qt.Equals(opt.Type, SchedCLS))
		qt.Assert(t, qt.HasLen(spec.Programs, 2))
	}
}

func TestLoadStructOps(t *testing.T) {
	spec := mustLoad(t, "struct_ops", "el")
	for name, flags := range map[string]uint32{"bpfkit_cc": 0, "bpfkit_cc_link": unix.BPF_F_LINK} {
		m := spec.Maps[name]
		qt.Assert(t, qt.IsNotNil(m))
		st, ok := m.Value.(*btf.Struct)
		qt.Assert(t, qt.IsTrue(ok))
		qt.Assert(t, qt.Equals(st.Name, "tcp_congestion_ops"))
		qt.Assert(t, qt.DeepEquals(fieldsOf(m), &mapFields{Type: StructOpsMap, KeySize: 4, ValueSize: st.Size, MaxEntries: 1,
			Flags: flags, Key: "Int", Value: "tcp_congestion_ops", Contents: m.Contents}))
		value := m.Contents[0].Value.([]byte)
		qt.Assert(t, qt.HasLen(value, int(st.Size)))
		for _, mem := range st.Members {
			if mem.Name == "name" {
				off := mem.Offset.Bytes()
				want := map[string]string{"bpfkit_cc": "bpfkit", "bpfkit_cc_link": "bpfkit_link"}[name]
				qt.Assert(t, qt.Equals(string(bytes.TrimRight(value[off:off+16], "\x00")), want))
			}
		}
	}
	targets := map[string]string{}
	for name, p := range spec.Programs {
		qt.Assert(t, qt.Equals(p.Type, StructOps))
		targets[name] = p.AttachTo
	}
	qt.Assert(t, qt.DeepEquals(targets, map[string]string{
		"bpfkit_init":       "tcp_congestion_ops:init",
		"bpfkit_ssthresh":   "tcp_congestion_ops:ssthresh",
		"bpfkit_cong_avoid": "tcp_congestion_ops:cong_avoid",
		"bpfkit_undo_cwnd":  "tcp_congestion_ops:undo_cwnd",
	}))
}

// BenchmarkLoadCollectionSpec reads every little-endian test object once
// per iteration, like the comparison with cilium/ebpf does.
func BenchmarkLoadCollectionSpec(b *testing.B) {
	files, err := filepath.Glob("testdata/*-el.elf")
	qt.Assert(b, qt.IsNil(err))
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			_, _ = LoadCollectionSpec(f)
		}
	}
}

// BenchmarkLoadCollectionSpecObjects reads each test object from memory.
func BenchmarkLoadCollectionSpecObjects(b *testing.B) {
	files, err := filepath.Glob("testdata/*-el.elf")
	qt.Assert(b, qt.IsNil(err))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), "-el.elf")
		raw, err := os.ReadFile(f)
		qt.Assert(b, qt.IsNil(err))
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = LoadCollectionSpecFromReader(bytes.NewReader(raw))
			}
		})
	}
}

// TestLoadUSDT reads an object written against libbpf's usdt.bpf.h: its
// maps are weak, its helper functions weak and hidden, and a section may
// name the probe to attach to.
func TestLoadUSDT(t *testing.T) {
	for _, order := range []string{"el", "eb"} {
		spec := mustLoad(t, "usdt", order)
		qt.Assert(t, qt.Equals(spec.Maps["__bpf_usdt_specs"].Type, Array))
		qt.Assert(t, qt.Equals(spec.Maps["__bpf_usdt_specs"].ValueSize, uint32(208)))
		qt.Assert(t, qt.Equals(spec.Maps["__bpf_usdt_ip_to_spec_id"].Type, Hash))

		targets := map[string]string{}
		for name, p := range spec.Programs {
			qt.Assert(t, qt.Equals(p.Type, Kprobe))
			targets[name] = p.AttachTo
		}
		qt.Assert(t, qt.DeepEquals(targets, map[string]string{
			"usdt_args":     "",
			"usdt_throw":    "libstdc++.so.6:libstdcxx:throw",
			"usdt_py_entry": "python3.11:python:function__entry",
		}))

		// Hidden functions are static to the verifier, as in libbpf:
		// bpf_usdt_arg writes through a pointer it doesn't check.
		linkage := map[string]btf.FuncLinkage{}
		for _, ins := range spec.Programs["usdt_args"].Instructions {
			if fn := btf.FuncMetadata(&ins); fn != nil {
				linkage[fn.Name] = fn.Linkage
			}
		}
		qt.Assert(t, qt.DeepEquals(linkage, map[string]btf.FuncLinkage{
			"usdt_args":        btf.GlobalFunc,
			"bpf_usdt_arg":     btf.StaticFunc,
			"bpf_usdt_arg_cnt": btf.StaticFunc,
			"bpf_usdt_cookie":  btf.StaticFunc,
		}))
	}
}
