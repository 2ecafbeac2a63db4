package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// loadForDump loads a test object's maps (not its programs, which this
// kernel may refuse), filled with pseudo-random entries where the map
// takes arbitrary ones.
func loadForDump(t *testing.T, name string) map[string]*ebpf.Map {
	t.Helper()
	spec, err := ebpf.LoadCollectionSpec(object(name))
	if err != nil {
		// A part for the linker (objlink_*): the ELF reader's tests
		// cover it.
		t.Skipf("not an object to load: %v", err)
	}
	spec.Programs = nil
	for mname, ms := range spec.Maps {
		// Pinning would leave maps behind.
		ms.Pinning = ebpf.PinNone
		switch ms.Type {
		case ebpf.StructOpsMap, ebpf.Arena:
			// Nothing to dump without programs; arenas have no
			// entries (and need privileges this machine lacks).
			delete(spec.Maps, mname)
		case ebpf.ProgramArray:
			ms.Contents = nil
		}
	}
	coll, err := ebpf.NewCollection(spec)
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { coll.Close() })
	rng := rand.New(rand.NewPCG(1, uint64(len(name))))
	for _, mname := range slices.Sorted(mapsKeys(coll.Maps)) {
		fill(t, coll.Maps[mname], rng)
	}
	return coll.Maps
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// fill writes random values into the first entries of maps whose values
// are plain data.
func fill(t *testing.T, m *ebpf.Map, rng *rand.Rand) {
	t.Helper()
	info, err := m.Info()
	qt.Assert(t, qt.IsNil(err))
	random := func(n uint32) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	switch info.Type {
	case ebpf.Array, ebpf.PerCPUArray, ebpf.Hash, ebpf.PerCPUHash, ebpf.LRUHash, ebpf.LRUCPUHash:
	case ebpf.LPMTrie:
		// A prefix length, then the data.
		for i := range 3 {
			key := random(info.KeySize)
			binary.NativeEndian.PutUint32(key, uint32(8*(int(info.KeySize)-4)-i))
			qt.Assert(t, qt.IsNil(m.Put(key, random(info.ValueSize))))
		}
		return
	case ebpf.ProgramArray:
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, License: "GPL", Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 0), asm.Return(),
		}})
		qt.Assert(t, qt.IsNil(err))
		defer prog.Close()
		qt.Assert(t, qt.IsNil(m.Put(uint32(0), prog)))
		return
	default:
		return
	}
	for i := range min(info.MaxEntries, 3) {
		key := random(info.KeySize)
		if info.Type == ebpf.Array || info.Type == ebpf.PerCPUArray {
			key = make([]byte, info.KeySize)
			key[0] = byte(i)
		}
		value := random(info.ValueSize)
		if perCPUMap(info.Type) {
			n, err := ebpf.PossibleCPU()
			qt.Assert(t, qt.IsNil(err))
			value = random(uint32((int(info.ValueSize)+7)&^7) * uint32(n))
		}
		// Values holding kernel objects (spin locks, timers, kptrs)
		// refuse arbitrary bytes; they keep their zero value.
		_ = m.Put(key, value)
	}
}

// bpftoolEntry is one entry of `bpftool -j map dump`.
type bpftoolEntry struct {
	Key    []string        `json:"key"`
	Value  json.RawMessage `json:"value"`
	Values []struct {
		CPU   int
		Value []string
	} `json:"values"`
	Formatted json.RawMessage `json:"formatted"`
}

func hexBytes(hexes []string) string {
	var b strings.Builder
	for _, h := range hexes {
		b.WriteString(strings.TrimPrefix(h, "0x"))
	}
	return b.String()
}

// normalizeJSON decodes a JSON document with numbers as strings.
func normalizeJSON(t *testing.T, raw []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	qt.Assert(t, qt.IsNil(d.Decode(&v)), qt.Commentf("%s", raw))
	return v
}

// TestMapDumpMatchesBpftool loads the maps of every test object, fills
// them, and compares each map's `bpfobj map dump -json` with `bpftool -j
// map dump`: the same keys, values (per CPU for per-CPU maps) and errors,
// and the same values decoded through BTF.
func TestMapDumpMatchesBpftool(t *testing.T) {
	testutils.RequireRoot(t)
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("bpftool not installed")
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "*-el.elf"))
	qt.Assert(t, qt.IsNil(err))
	dumped := map[string]int{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), "-el.elf")
		if strings.Contains(name, "err_") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			maps := loadForDump(t, name)
			for _, mname := range slices.Sorted(mapsKeys(maps)) {
				what, entries := compareDump(t, bpftool, maps[mname])
				dumped[what] += entries
			}
		})
	}
	for _, what := range slices.Sorted(mapsKeys(dumped)) {
		t.Logf("%s: %d entries compared", what, dumped[what])
	}
}

func compareDump(t *testing.T, bpftool string, m *ebpf.Map) (string, int) {
	t.Helper()
	info, err := m.Info()
	qt.Assert(t, qt.IsNil(err))
	id, _ := info.ID()
	idArg := strconv.FormatUint(uint64(id), 10)

	out, stderr, code := bpfobj(t, "-json", "map", "dump", idArg)
	var r Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	qt.Assert(t, qt.IsNil(dec.Decode(&r)), qt.Commentf("stdout: %s\nstderr: %s", out, stderr))
	theirs, berr := exec.Command(bpftool, "-j", "map", "dump", "id", idArg).Output()
	if berr != nil {
		// bpftool can't dump it: neither must we.
		qt.Assert(t, qt.Not(qt.Equals(code, exitOK)), qt.Commentf("bpftool: %v %s; ours: %+v", berr, theirs, r.Map))
		return fmt.Sprintf("%s: not dumpable (bpftool and we fail)", info.Type), 0
	}
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
	var want []bpftoolEntry
	if err := json.Unmarshal(theirs, &want); err != nil && bytes.Contains(theirs, []byte("(unsupported-kind")) {
		// bpftool's btf_dumper can't show floats and breaks its JSON.
		t.Logf("map %s: bpftool can't show its values", info.Name)
		return info.Type.String() + " (BTF with floats, not compared)", 0
	}
	qt.Assert(t, qt.IsNil(json.Unmarshal(theirs, &want)), qt.Commentf("%s", theirs))
	got := r.Map.Entries
	qt.Assert(t, qt.HasLen(got, len(want)), qt.Commentf("map %s (%s): bpftool: %s", info.Name, info.Type, theirs))
	for i := range want {
		w, g := want[i], got[i]
		qt.Assert(t, qt.Equals(g.KeyHex, hexBytes(w.Key)))
		var valueErr struct{ Error string }
		if json.Unmarshal(w.Value, &valueErr) == nil && valueErr.Error != "" {
			qt.Assert(t, qt.Not(qt.Equals(g.Error, "")), qt.Commentf("bpftool: %s", valueErr.Error))
			continue
		}
		qt.Assert(t, qt.Equals(g.Error, ""))
		if w.Values != nil {
			stride := (int(m.ValueSize()) + 7) &^ 7
			for _, v := range w.Values {
				start := 2 * v.CPU * stride
				qt.Assert(t, qt.IsTrue(start+2*int(m.ValueSize()) <= len(g.ValueHex)))
				qt.Assert(t, qt.Equals(g.ValueHex[start:start+2*int(m.ValueSize())], hexBytes(v.Value)), qt.Commentf("cpu %d", v.CPU))
			}
		} else {
			var hexes []string
			qt.Assert(t, qt.IsNil(json.Unmarshal(w.Value, &hexes)))
			qt.Assert(t, qt.Equals(g.ValueHex, hexBytes(hexes)))
		}
		if w.Formatted == nil {
			qt.Assert(t, qt.IsNil(g.Formatted))
			continue
		}
		ours, err := json.Marshal(g.Formatted)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.DeepEquals(normalizeJSON(t, ours), normalizeJSON(t, w.Formatted)), qt.Commentf("entry %d", i))
	}
	what := info.Type.String()
	if w := want; len(w) > 0 && w[0].Formatted != nil {
		what += " (BTF)"
	}
	return what, len(want)
}
