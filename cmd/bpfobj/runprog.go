package main

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/btf"
)

func runProgram(report *Report, file, prog string, opts options) error {
	spec, err := readObject(file)
	if err != nil {
		return err
	}
	report.Object = objectHeader(file, spec)
	if spec.Programs[prog] == nil {
		return fmt.Errorf("no program %q in %s; it has: %s", prog, file,
			strings.Join(slices.Sorted(maps.Keys(spec.Programs)), ", "))
	}
	in := runInput{repeat: uint32(opts.repeat)}
	if opts.data != "" {
		if in.data, err = parseData(opts.data); err != nil {
			return usagef("-data: %v", err)
		}
	}
	if opts.ctx != "" {
		if in.ctx, err = parseHex(opts.ctx); err != nil {
			return usagef("-ctx: %v", err)
		}
	}

	// The whole object is loaded: the program may tail-call others or
	// share maps with them.
	coll, err := loadCollection(report, spec, options{verbose: opts.verbose})
	if err != nil {
		return err
	}
	defer coll.Close()

	rr, err := runOne(coll, spec, prog, in)
	if rr != nil {
		report.Run = append(report.Run, rr)
	}
	return err
}

// runInput is what a test run gets: data, context, repetitions. A nil data
// means the sample packet for packet programs and nothing for others.
type runInput struct {
	data, ctx []byte
	repeat    uint32
}

// maxDataFile bounds -data @FILE; the kernel takes at most a few pages of
// packet data anyway.
const maxDataFile = 1 << 20

// parseData reads -data: hex, or @FILE for the raw bytes of FILE.
func parseData(arg string) ([]byte, error) {
	file, ok := strings.CutPrefix(arg, "@")
	if !ok {
		return parseHex(arg)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDataFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxDataFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", file, maxDataFile)
	}
	return b, nil
}

// parseHex decodes hex bytes; spaces, colons and a leading 0x are allowed
// ("0a0b", "0a:0b", "0a 0b").
func parseHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	s = strings.NewReplacer(" ", "", ":", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", err)
	}
	return b, nil
}

// samplePacket is a 64-byte UDP/IPv4 Ethernet frame from 10.0.0.1:12345
// to 10.0.0.2:53: what packet programs get when no -data is given. The
// checksums are not computed; programs rarely look.
var samplePacket = func() []byte {
	p := make([]byte, 64)
	copy(p[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // destination MAC: broadcast
	copy(p[6:12], []byte{0x02, 0, 0, 0, 0, 0x01})            // source MAC: locally administered
	binary.BigEndian.PutUint16(p[12:], 0x0800)               // IPv4
	ip := p[14:]
	ip[0] = 0x45                              // version 4, 20-byte header
	binary.BigEndian.PutUint16(ip[2:], 64-14) // total length
	ip[8] = 64                                // TTL
	ip[9] = unix.IPPROTO_UDP
	copy(ip[12:16], []byte{10, 0, 0, 1})
	copy(ip[16:20], []byte{10, 0, 0, 2})
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 12345)
	binary.BigEndian.PutUint16(udp[2:], 53)
	binary.BigEndian.PutUint16(udp[4:], 64-14-20)
	copy(udp[8:], "bpfobj sample packet")
	return p
}()

// packetProgram reports whether programs of type t run on packet data
// under BPF_PROG_TEST_RUN.
func packetProgram(t ebpf.ProgramType) bool {
	switch t {
	case ebpf.XDP, ebpf.SocketFilter, ebpf.SchedCLS, ebpf.SchedACT, ebpf.CGroupSKB,
		ebpf.LWTIn, ebpf.LWTOut, ebpf.LWTXmit, ebpf.LWTSeg6Local, ebpf.SkSKB, ebpf.FlowDissector:
		return true
	}
	return false
}

// outputHeadroom is how much larger than the input the data output buffer
// is, for programs that grow the packet.
const outputHeadroom = 512

// maxContextOut is the size of the context output buffer: larger than any
// program context (struct __sk_buff is 192 bytes).
const maxContextOut = 4096

// runOne runs the program name of coll once (in.repeat times) and reads
// the global variables and small maps afterwards.
func runOne(coll *ebpf.Collection, spec *ebpf.CollectionSpec, name string, in runInput) (*RunResult, error) {
	prog := coll.Programs[name]
	if prog == nil {
		return nil, fmt.Errorf("program %q was not loaded", name)
	}
	rr := &RunResult{Program: name, Repeat: in.repeat}
	typ := prog.Type()

	data := in.data
	if data == nil && packetProgram(typ) {
		data = samplePacket
		rr.DataInNote = fmt.Sprintf("%d-byte sample packet", len(samplePacket))
	}
	opts := &ebpf.RunOptions{Repeat: in.repeat}
	if len(data) > 0 {
		opts.Data = data
		rr.DataIn = hexString(data)
	}
	if in.ctx != nil {
		opts.Context = slices.Clone(in.ctx)
		rr.CtxIn = hexString(in.ctx)
	}
	if typ == ebpf.Syscall {
		// Syscall programs run exactly once, take neither data nor an
		// output context, and write their results into the input
		// context.
		if in.repeat > 1 {
			return nil, usagef("-repeat: syscall programs run once")
		}
		opts.Repeat = 0
	} else {
		if len(data) > 0 {
			opts.DataOut = make([]byte, len(data)+outputHeadroom)
		}
		if in.ctx != nil {
			opts.ContextOut = make([]byte, maxContextOut)
		}
	}

	ret, mean, source, err := timedRun(prog, opts)
	switch {
	case err == nil:
	case errors.Is(err, unix.EPERM) && !privileged():
		return nil, fmt.Errorf("%w: %w", errNeedsRoot, err)
	case errors.Is(err, unix.EINVAL):
		return nil, fmt.Errorf("%w (the kernel refused the input: packet programs need at least 14 bytes of -data, "+
			"a -ctx must have the size of the program's context and cover what it reads)", err)
	default:
		return nil, err
	}
	rr.Return = ret
	rr.ReturnName = returnName(typ, ret)
	rr.MeanNanos, rr.TimeSource = mean, source
	if opts.DataOut != nil {
		rr.DataOut = hexString(opts.DataOut)
	}
	if typ == ebpf.Syscall {
		if b, ok := opts.Context.([]byte); ok {
			rr.CtxOut = hexString(b)
		}
	} else if b, ok := opts.ContextOut.([]byte); ok {
		rr.CtxOut = hexString(b)
	}

	rr.Variables, rr.Maps, err = readState(coll, spec)
	return rr, err
}

// timedRun runs the program and returns the mean time per run. The kernel
// measures it around the program alone (RunOptions.Duration); test runners
// that measure no time (syscall, raw tracepoint and tracing programs)
// report zero, and the wall clock of the bpf(2) call stands in, overhead
// included.
func timedRun(prog *ebpf.Program, opts *ebpf.RunOptions) (ret uint32, meanNanos float64, source string, err error) {
	start := time.Now()
	ret, err = prog.Run(opts)
	wall := time.Since(start)
	if err != nil {
		return 0, 0, "", err
	}
	if opts.Duration > 0 {
		return ret, float64(opts.Duration.Nanoseconds()), "kernel", nil
	}
	return ret, float64(wall) / float64(max(opts.Repeat, 1)), "wall", nil
}

// returnName says what a return value means for the program types whose
// return values have names.
func returnName(t ebpf.ProgramType, ret uint32) string {
	switch t {
	case ebpf.XDP:
		names := []string{"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"}
		if int(ret) < len(names) {
			return names[ret]
		}
	case ebpf.SchedCLS, ebpf.SchedACT:
		names := []string{"TC_ACT_OK", "TC_ACT_RECLASSIFY", "TC_ACT_SHOT", "TC_ACT_PIPE",
			"TC_ACT_STOLEN", "TC_ACT_QUEUED", "TC_ACT_REPEAT", "TC_ACT_REDIRECT"}
		if int32(ret) == -1 {
			return "TC_ACT_UNSPEC"
		}
		if int(ret) < len(names) {
			return names[ret]
		}
	case ebpf.SocketFilter:
		if ret == 0 {
			return "drop"
		}
		return fmt.Sprintf("keep %d bytes", ret)
	case ebpf.CGroupSKB:
		switch ret {
		case 0:
			return "drop"
		case 1:
			return "allow"
		}
	}
	return ""
}

// Limits on what is read back after a run.
const (
	maxDumpEntries  = 8
	maxDumpedMaps   = 16
	maxDumpedValues = 64 << 10
)

// readState reads the global variables from their data section maps and the
// first entries of small array and hash maps.
func readState(coll *ebpf.Collection, spec *ebpf.CollectionSpec) ([]*Variable, []*MapDump, error) {
	bo := spec.ByteOrder
	sections := map[string][]byte{}
	var vars []*Variable
	for _, name := range slices.Sorted(maps.Keys(spec.Variables)) {
		vs := spec.Variables[name]
		m := coll.Maps[vs.SectionName]
		if m == nil {
			continue
		}
		sec, ok := sections[vs.SectionName]
		if !ok {
			b, err := m.LookupBytes(uint32(0))
			if err != nil {
				return nil, nil, fmt.Errorf("read section %s: %w", vs.SectionName, err)
			}
			sections[vs.SectionName] = b
			sec = b
		}
		end := uint64(vs.Offset) + uint64(vs.Size())
		if end > uint64(len(sec)) {
			continue
		}
		v := describeVariable(name, vs, bo)
		value := sec[vs.Offset:end]
		var typ btf.Type
		if vs.Type != nil {
			typ = vs.Type.Type
		}
		v.Value, v.Hex = formatValue(typ, value, bo), hexString(value)
		vars = append(vars, v)
	}

	var dumps []*MapDump
	for _, name := range slices.Sorted(maps.Keys(spec.Maps)) {
		ms := spec.Maps[name]
		m := coll.Maps[name]
		if m == nil || len(dumps) == maxDumpedMaps {
			continue
		}
		if _, ok := ms.Value.(*btf.Datasec); ok {
			continue
		}
		switch ms.Type {
		case ebpf.Array, ebpf.Hash, ebpf.LRUHash:
		default:
			continue
		}
		if uint64(ms.ValueSize)*maxDumpEntries > maxDumpedValues {
			continue
		}
		d, err := dumpMap(name, m, ms)
		if err != nil {
			return vars, dumps, err
		}
		dumps = append(dumps, d)
	}
	return vars, dumps, nil
}

// dumpMap reads the first entries of a map with map dump's reader, decoded
// through the spec's types.
func dumpMap(name string, m *ebpf.Map, ms *ebpf.MapSpec) (*MapDump, error) {
	info, err := m.Info()
	if err != nil {
		return nil, fmt.Errorf("read map %s: %w", name, err)
	}
	entries, more, err := readEntries(m, info, mapTypes{ms.Key, ms.Value}, maxDumpEntries)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", name, err)
	}
	return &MapDump{Name: name, Entries: entries, More: more}, nil
}
