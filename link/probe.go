package link

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/tracefs"
)

// probeArgs describe a kprobe or uprobe perf event to open.
type probeArgs struct {
	typ tracefs.ProbeType
	// symbol is the kernel function of a kprobe; for a uprobe it names
	// the tracefs event only.
	symbol string
	// path is the binary of a uprobe.
	path string
	// offset is added to symbol (kprobe) or is the instruction's file
	// offset (uprobe).
	offset       uint64
	refCtrOffset uint64
	ret          bool
	retMaxActive int
	// pid limits a uprobe to one process; -1 for all.
	pid int
	// prefix starts the tracefs group name of the fallback.
	prefix string
}

// what names the probe in errors: "kprobe do_sys_open+0x10".
func (args *probeArgs) what() string {
	kind := args.typ.String()
	if args.ret {
		kind = strings.Replace(kind, "probe", "retprobe", 1)
	}
	if args.typ == tracefs.Kprobe {
		if args.offset != 0 {
			return fmt.Sprintf("%s %s+%#x", kind, args.symbol, args.offset)
		}
		return kind + " " + args.symbol
	}
	if args.symbol != "" {
		return fmt.Sprintf("%s %s:%s (offset %#x)", kind, args.path, args.symbol, args.offset)
	}
	return fmt.Sprintf("%s %s:%#x", kind, args.path, args.offset)
}

// openProbe opens a perf event for the probe: through the kprobe/uprobe
// PMU where the kernel has one (4.17; the probe is private to the
// descriptor and vanishes with it), else through a trace event created in
// tracefs, which the returned perfEvent removes on Close. A kretprobe with
// a maxactive count needs tracefs: the PMU can't express it.
func openProbe(args probeArgs) (*perfEvent, error) {
	if args.retMaxActive == 0 {
		fd, err := openPMUProbe(&args)
		if err == nil {
			return &perfEvent{fd: fd}, nil
		}
		if !errors.Is(err, ErrNotSupported) {
			return nil, err
		}
	}
	return openTracefsProbe(&args)
}

// openPMUProbe creates the probe as a perf event of the dynamic PMU
// (perf_event_attr.type from sysfs; config holds the retprobe bit and the
// uprobe reference counter offset; config1 points at the symbol or path,
// config2 is the offset).
func openPMUProbe(args *probeArgs) (*sys.FD, error) {
	pmu, err := tracefs.PMUType(args.typ)
	if err != nil {
		return nil, err
	}
	var config uint64
	if args.ret {
		bit, err := tracefs.PMUConfigBit(args.typ, tracefs.FormatRetprobe)
		if err != nil {
			return nil, err
		}
		config |= 1 << bit
	}
	if args.refCtrOffset != 0 {
		bit, err := tracefs.PMUConfigBit(args.typ, tracefs.FormatRefCtrOffset)
		if err != nil {
			return nil, err
		}
		if bit >= 64 || args.refCtrOffset > ^uint64(0)>>bit {
			return nil, fmt.Errorf("%s: reference counter offset %#x does not fit the PMU's config: %w", args.what(), args.refCtrOffset, os.ErrInvalid)
		}
		config |= args.refCtrOffset << bit
	}
	target := args.symbol
	if args.typ == tracefs.Uprobe {
		target = args.path
	}
	name := append([]byte(target), 0)
	attr := unix.PerfEventAttr{
		Type:        pmu,
		Config:      config,
		Ext1:        uint64(uintptr(unsafe.Pointer(&name[0]))),
		Ext2:        args.offset,
		Sample_type: unix.PERF_SAMPLE_RAW,
		Sample:      1,
		Wakeup:      1,
	}
	fd, err := openPerfEvent(&attr, args.pid)
	runtime.KeepAlive(name)
	if err != nil {
		return nil, fmt.Errorf("%s: open PMU perf event: %w", args.what(), probeError(err))
	}
	return fd, nil
}

// probeError marks the errnos that mean "no such symbol, offset or file"
// with os.ErrNotExist. Kernels report a missing kprobe symbol as ENOENT
// (EINVAL before 5.x), an offset inside an instruction as EILSEQ, an offset
// beyond the function or file as ERANGE or EINVAL.
func probeError(err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) ||
		errors.Is(err, unix.EILSEQ) || errors.Is(err, unix.ERANGE) {
		return fmt.Errorf("%w (%w)", os.ErrNotExist, err)
	}
	return err
}

// openTracefsProbe creates a kprobe/uprobe event in tracefs, in a group of
// its own, and opens a perf event of it. On error nothing is left behind.
func openTracefsProbe(args *probeArgs) (*perfEvent, error) {
	group, err := probeGroup(args.prefix)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", args.what(), err)
	}
	event, err := tracefs.NewEvent(tracefs.ProbeArgs{
		Type:         args.typ,
		Symbol:       args.symbol,
		Path:         args.path,
		Offset:       args.offset,
		RefCtrOffset: args.refCtrOffset,
		Ret:          args.ret,
		RetMaxActive: args.retMaxActive,
		Group:        group,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: create trace event: %w", args.what(), err)
	}
	fd, err := openTracepointEvent(event.ID(), args.pid)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", args.what(), errors.Join(err, event.Close()))
	}
	return &perfEvent{fd: fd, event: event}, nil
}

// maxPrefixLen leaves room in a 63-character group name for
// "_<pid>_<16 hex digits>".
const maxPrefixLen = 63 - len("_4194304_0123456789abcdef")

// probeGroup returns the tracefs group for a probe: "" (tracefs picks
// "bpfkit_<pid>_<random>") without a prefix, else
// "<prefix>_<pid>_<random>".
func probeGroup(prefix string) (string, error) {
	if prefix == "" {
		return "", nil
	}
	if len(prefix) > maxPrefixLen {
		return "", fmt.Errorf("tracefs prefix %q is longer than %d characters: %w", prefix, maxPrefixLen, os.ErrInvalid)
	}
	for _, c := range []byte(prefix) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return "", fmt.Errorf("tracefs prefix %q: want letters, digits and '_': %w", prefix, os.ErrInvalid)
		}
	}
	random, err := tracefs.RandomGroup()
	if err != nil {
		return "", err
	}
	return prefix + strings.TrimPrefix(random, tracefs.GroupPrefix), nil
}
