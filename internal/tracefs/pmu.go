package tracefs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/bpfkit/ebpf/internal"
)

// pmuRoot is where sysfs lists perf's PMUs; tests point it elsewhere.
var pmuRoot = "/sys/bus/event_source/devices"

// The kprobe and uprobe PMUs let perf_event_open create a probe directly,
// without a tracefs event, since v4.17.
var pmuSince = internal.Version{4, 17}

var pmuTypes = [...]func() (uint32, error){
	Kprobe: sync.OnceValues(func() (uint32, error) { return readPMUType(Kprobe) }),
	Uprobe: sync.OnceValues(func() (uint32, error) { return readPMUType(Uprobe) }),
}

// PMUType returns the perf_event_attr.type of the kprobe or uprobe PMU,
// from /sys/bus/event_source/devices/<kprobe|uprobe>/type. The error wraps
// internal.ErrNotSupported when the kernel has no such PMU (before v4.17,
// or without CONFIG_KPROBE_EVENTS / CONFIG_UPROBE_EVENTS). The answer is
// cached.
func PMUType(typ ProbeType) (uint32, error) {
	if int(typ) >= len(pmuTypes) {
		return 0, fmt.Errorf("unknown probe type %d: %w", typ, os.ErrInvalid)
	}
	return pmuTypes[typ]()
}

func readPMUType(typ ProbeType) (uint32, error) {
	path := filepath.Join(pmuRoot, typ.String(), "type")
	data, err := readSmall(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, &internal.UnsupportedFeatureError{Name: typ.String() + " PMU", MinimumVersion: pmuSince}
	}
	if err != nil {
		return 0, fmt.Errorf("%s PMU: %w", typ, err)
	}
	v, err := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s PMU: %s: %q: %w", typ, path, data, err)
	}
	return uint32(v), nil
}

// Format fields of the probe PMUs.
const (
	// FormatRetprobe selects a kretprobe or uretprobe (v4.17).
	FormatRetprobe = "retprobe"
	// FormatRefCtrOffset holds a uprobe's reference counter offset (v4.20).
	FormatRefCtrOffset = "ref_ctr_offset"
)

// PMUConfigBit returns the lowest bit of perf_event_attr.config that the
// PMU's format field occupies, from
// /sys/bus/event_source/devices/<pmu>/format/<field> ("config:0" gives 0,
// "config:32-63" gives 32): a kretprobe sets config |= 1 << bit of
// FormatRetprobe, a uprobe with a reference counter sets
// config |= offset << bit of FormatRefCtrOffset. The error wraps
// internal.ErrNotSupported when the field is missing. Cost: one small file
// read.
func PMUConfigBit(typ ProbeType, field string) (uint, error) {
	if _, err := PMUType(typ); err != nil {
		return 0, err
	}
	if !validIdentifier(field) {
		return 0, fmt.Errorf("%s PMU format %q: only letters, digits and '_' are allowed: %w", typ, field, os.ErrInvalid)
	}
	path := filepath.Join(pmuRoot, typ.String(), "format", field)
	data, err := readSmall(path)
	if errors.Is(err, os.ErrNotExist) {
		ufe := &internal.UnsupportedFeatureError{Name: fmt.Sprintf("%s PMU format %s", typ, field)}
		switch field {
		case FormatRetprobe:
			ufe.MinimumVersion = pmuSince
		case FormatRefCtrOffset:
			ufe.MinimumVersion = internal.Version{4, 20}
		}
		return 0, ufe
	}
	if err != nil {
		return 0, fmt.Errorf("%s PMU format %s: %w", typ, field, err)
	}
	bit, err := parseConfigBit(string(bytes.TrimSpace(data)))
	if err != nil {
		return 0, fmt.Errorf("%s PMU format %s: %s: %w", typ, field, path, err)
	}
	return bit, nil
}

// parseConfigBit reads "config:N" or "config:N-M" and returns N.
func parseConfigBit(s string) (uint, error) {
	const prefix = "config:"
	if len(s) <= len(prefix) || s[:len(prefix)] != prefix {
		return 0, fmt.Errorf("%q: want config:N or config:N-M", s)
	}
	first, last, isRange := strings.Cut(s[len(prefix):], "-")
	lo, err := strconv.ParseUint(first, 10, 8)
	if err != nil || lo > 63 {
		return 0, fmt.Errorf("%q: bit %q is not in 0-63", s, first)
	}
	if isRange {
		hi, err := strconv.ParseUint(last, 10, 8)
		if err != nil || hi > 63 || hi < lo {
			return 0, fmt.Errorf("%q: bit %q is not in %d-63", s, last, lo)
		}
	}
	return uint(lo), nil
}
