package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/btf"
)

// bpfobj map dump: the entries of a loaded map, decoded through its BTF.
//
//	bpfobj map dump [-json] ID|PIN

// MapContents is a map and its entries, as `bpfobj map dump` read them.
type MapContents struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
	// Type is the library's MapType name.
	Type       string `json:"type"`
	KeySize    uint32 `json:"key_size"`
	ValueSize  uint32 `json:"value_size"`
	MaxEntries uint32 `json:"max_entries"`
	// KeyType and ValueType are the BTF types in C syntax, empty when
	// the map has none.
	KeyType   string `json:"key_type,omitempty"`
	ValueType string `json:"value_type,omitempty"`
	// PerCPU says that each key has one value per possible CPU.
	PerCPU  bool         `json:"per_cpu,omitempty"`
	Entries []*DumpEntry `json:"entries"`
}

// DumpEntry is one entry of a map. Key and Value are its text form
// (Entry); KeyHex and ValueHex the raw bytes, ValueHex with every CPU's
// value for per-CPU maps (8-byte aligned slots). Formatted decodes both
// through BTF in bpftool's JSON layout ({"key": ..., "value": ...}, or
// "values": [{"cpu": N, "value": ...}] for per-CPU maps); it is absent
// without BTF. Error is set instead of the value when the kernel refused
// to read the entry (as for a perf event array).
type DumpEntry struct {
	Entry
	KeyHex string `json:"key_hex"`
	// Values are the text forms of each CPU's value.
	Values    []string `json:"values,omitempty"`
	Formatted any      `json:"formatted,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// mapTypes are a map's key and value types, nil where it has none.
type mapTypes struct {
	key, value btf.Type
}

func runMap(args []string, leadingJSON bool, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "dump" {
		return usage(stderr, usagef("map needs a command: dump"))
	}
	jsonOut := leadingJSON
	fs := flag.NewFlagSet("bpfobj map dump", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&jsonOut, "json", jsonOut, "")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return usage(stderr, err)
	}
	if len(pos) != 1 {
		return usage(stderr, usagef("map dump needs one map ID or pinned path"))
	}

	var report Report
	report.Map, err = dumpMapByName(pos[0])
	if err != nil {
		report.Error = err.Error()
	}
	if jsonOut {
		if code := writeJSON(stdout, stderr, &report); code != exitOK {
			return code
		}
	} else if report.Map != nil && (err == nil || len(report.Map.Entries) > 0) {
		writeMapContents(stdout, report.Map)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bpfobj map dump: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// openMap opens a map by ID (a number) or by the path it is pinned at.
func openMap(arg string) (*ebpf.Map, error) {
	if id, err := strconv.ParseUint(arg, 10, 32); err == nil {
		m, err := ebpf.NewMapFromID(ebpf.MapID(id))
		if err != nil {
			return nil, fmt.Errorf("map ID %d: %w", id, err)
		}
		return m, nil
	}
	m, err := ebpf.LoadPinnedMap(arg, nil)
	if err != nil {
		return nil, fmt.Errorf("pinned map %s: %w", arg, err)
	}
	return m, nil
}

func dumpMapByName(arg string) (*MapContents, error) {
	m, err := openMap(arg)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	info, err := m.Info()
	if err != nil {
		return nil, err
	}
	mc := &MapContents{
		Name:       info.Name,
		Type:       info.Type.String(),
		KeySize:    info.KeySize,
		ValueSize:  info.ValueSize,
		MaxEntries: info.MaxEntries,
		PerCPU:     perCPUMap(info.Type),
	}
	if id, ok := info.ID(); ok {
		mc.ID = uint32(id)
	}
	if why := notWalkable(info.Type); why != "" {
		return mc, fmt.Errorf("%s map %s can't be dumped: %s", info.Type, orDash(info.Name), why)
	}
	types, err := mapBTF(info)
	if err != nil {
		return mc, err
	}
	mc.KeyType, mc.ValueType = typeString(types.key), typeString(types.value)
	mc.Entries, _, err = readEntries(m, info, types, 0)
	return mc, err
}

// mapBTF finds a map's key and value types: in the BTF it was created
// with, or the kernel's for a struct_ops map's value.
func mapBTF(info *ebpf.MapInfo) (mapTypes, error) {
	var types mapTypes
	if id, ok := info.BTFVmlinuxValueTypeID(); ok {
		kernel, err := btf.LoadKernelSpec()
		if err != nil {
			return types, err
		}
		if types.value, err = kernel.TypeByID(id); err != nil {
			return types, fmt.Errorf("value type: %w", err)
		}
		return types, nil
	}
	btfID, ok := info.BTFID()
	if !ok {
		return types, nil
	}
	h, err := btf.NewHandleFromID(btfID)
	if err != nil {
		return types, fmt.Errorf("map BTF: %w", err)
	}
	defer h.Close()
	spec, err := h.Spec(nil)
	if err != nil {
		return types, fmt.Errorf("map BTF: %w", err)
	}
	if id, ok := info.BTFKeyTypeID(); ok {
		if types.key, err = spec.TypeByID(id); err != nil {
			return types, fmt.Errorf("key type: %w", err)
		}
	}
	if id, ok := info.BTFValueTypeID(); ok {
		if types.value, err = spec.TypeByID(id); err != nil {
			return types, fmt.Errorf("value type: %w", err)
		}
	}
	return types, nil
}

// notWalkable says why a map has no keys to walk, "" if it has.
func notWalkable(t ebpf.MapType) string {
	switch t {
	case ebpf.Queue, ebpf.Stack:
		return "it has no keys (its head can be peeked)"
	case ebpf.RingBuf, ebpf.UserRingbuf:
		return "it is a ring of records, read with a ring buffer reader"
	case ebpf.BloomFilter:
		return "it has no keys, only membership tests"
	case ebpf.SkStorage, ebpf.InodeStorage, ebpf.TaskStorage, ebpf.CgroupStorage:
		return "its keys are kernel objects, looked up by file descriptor"
	case ebpf.Arena:
		return "it is memory for mmap, not entries"
	}
	return ""
}

func perCPUMap(t ebpf.MapType) bool {
	switch t {
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash, ebpf.PerCPUCGroupStorage:
		return true
	}
	return false
}

// readEntries reads a map's entries (at most limit, 0 for all) and
// decodes them with types; more says that the map holds more. It is the
// one reader of `bpfobj map dump` and of the state `bpfobj run` shows
// after a run. An entry the kernel refuses to read is listed with its
// error, as bpftool does.
func readEntries(m *ebpf.Map, info *ebpf.MapInfo, types mapTypes, limit int) (entries []*DumpEntry, more bool, _ error) {
	entries = []*DumpEntry{}
	cpus := 1
	perCPU := perCPUMap(info.Type)
	if perCPU {
		n, err := ebpf.PossibleCPU()
		if err != nil {
			return nil, false, err
		}
		cpus = n
	}
	// The kernel's maps hold values in the host's byte order.
	bo := binary.NativeEndian
	// Walk the keys one by one, as bpftool does, so that every key shows
	// up, also those whose value can't be read.
	var key []byte
	var prev any // nil asks for the first key
	for steps := uint64(0); ; steps++ {
		next, err := m.NextKeyBytes(prev)
		if err != nil {
			return entries, more, fmt.Errorf("read map: %w", err)
		}
		if next == nil {
			break
		}
		if steps > uint64(info.MaxEntries) {
			return entries, more, fmt.Errorf("read map: more keys than its %d entries (it changed during the walk)", info.MaxEntries)
		}
		key, prev = next, next
		if limit > 0 && len(entries) == limit {
			more = true
			break
		}
		e := &DumpEntry{KeyHex: hexString(key)}
		e.Key = formatValue(types.key, key, bo)
		value, err := m.LookupBytes(key)
		if err == nil && value == nil {
			// An empty slot of a program array or map of maps is
			// no entry; elsewhere the key vanished since the walk
			// saw it.
			if holdsObjects(info.Type) {
				continue
			}
			err = errNoValue
		}
		entries = append(entries, e)
		if err != nil {
			e.Error = err.Error()
			continue
		}
		e.ValueHex = hexString(value)
		formatted := jsonObject{}
		if types.key != nil {
			if v, err := jsonValue(types.key, key, bo); err == nil {
				formatted = append(formatted, jsonField{"key", v})
			}
		}
		if !perCPU {
			e.Value = formatValue(types.value, value, bo)
			if types.value != nil {
				if v, err := jsonValue(types.value, value, bo); err == nil {
					formatted = append(formatted, jsonField{"value", v})
				}
			}
		} else {
			stride := (int(info.ValueSize) + 7) &^ 7
			var perCPUValues []any
			for cpu := range cpus {
				if (cpu+1)*stride > len(value) {
					break
				}
				v := value[cpu*stride : cpu*stride+int(info.ValueSize)]
				e.Values = append(e.Values, formatValue(types.value, v, bo))
				if types.value != nil {
					if jv, err := jsonValue(types.value, v, bo); err == nil {
						perCPUValues = append(perCPUValues, jsonObject{{"cpu", cpu}, {"value", jv}})
					}
				}
			}
			e.Value = "[" + strings.Join(e.Values, ", ") + "]"
			if perCPUValues != nil {
				formatted = append(formatted, jsonField{"values", perCPUValues})
			}
		}
		if types.key != nil || types.value != nil {
			e.Formatted = formatted
		}
	}
	return entries, more, nil
}

var errNoValue = errors.New("no value for the key")

// holdsObjects reports whether a map's values are programs or maps, whose
// empty slots the kernel lists as keys.
func holdsObjects(t ebpf.MapType) bool {
	switch t {
	case ebpf.ProgramArray, ebpf.ArrayOfMaps, ebpf.HashOfMaps:
		return true
	}
	return false
}

func writeMapContents(w io.Writer, mc *MapContents) {
	fmt.Fprintf(w, "MAP %s (id %d): %s, key %s, value %s, max %d entries\n", orDash(mc.Name), mc.ID, mc.Type,
		sizeAndType(mc.KeySize, mc.KeyType), sizeAndType(mc.ValueSize, mc.ValueType), mc.MaxEntries)
	for _, e := range mc.Entries {
		switch {
		case e.Error != "":
			fmt.Fprintf(w, "  [%s]: %s\n", e.Key, e.Error)
		case mc.PerCPU:
			fmt.Fprintf(w, "  [%s] =\n", e.Key)
			for cpu, v := range e.Values {
				fmt.Fprintf(w, "    cpu%d: %s\n", cpu, v)
			}
		default:
			fmt.Fprintf(w, "  [%s] = %s\n", e.Key, e.Value)
		}
	}
	if len(mc.Entries) == 1 {
		fmt.Fprintln(w, "1 entry")
	} else {
		fmt.Fprintf(w, "%d entries\n", len(mc.Entries))
	}
}

// writeJSON writes the report as the command's one JSON document.
func writeJSON(stdout, stderr io.Writer, report *Report) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(report); err != nil {
		fmt.Fprintf(stderr, "bpfobj: %v\n", err)
		return exitFailure
	}
	return exitOK
}
