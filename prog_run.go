package ebpf

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/sysenc"
)

// RunOptions are the input and output of one Program.Run
// (BPF_PROG_TEST_RUN).
type RunOptions struct {
	// Data is the packet (or other input) the program runs on. XDP and
	// socket buffer programs need at least an Ethernet header, 14 bytes.
	Data []byte
	// DataOut receives the data after the run; the caller allocates it.
	// Run shortens it to the length the kernel wrote. Optional.
	DataOut []byte
	// Context is the program's context: a []byte or a fixed-size value
	// (struct, array or integer without pointers), e.g. a __sk_buff or the
	// argument struct of a syscall program. Syscall programs write their
	// results into it: pass a []byte or a pointer to see them. Optional.
	Context any
	// ContextOut receives the context after the run: a []byte (shortened
	// to the length written) or a pointer to a fixed-size value. Optional.
	ContextOut any
	// Repeat is how often the program runs; 0 means once. Duration
	// receives the mean time of one run.
	Repeat uint32
	// Flags of the test run: BPF_F_TEST_RUN_ON_CPU (use CPU),
	// BPF_F_TEST_XDP_LIVE_FRAMES, ...
	Flags uint32
	// CPU to run on, with BPF_F_TEST_RUN_ON_CPU; only some program types
	// (raw tracepoints) can.
	CPU uint32
	// BatchSize is how many frames the kernel sends at once in XDP live
	// frame mode (BPF_F_TEST_XDP_LIVE_FRAMES with a Repeat); 0 means the
	// kernel's default (64).
	BatchSize uint32
	// Reset was called by other libraries when a run was interrupted. The
	// syscall layer here retries interrupted runs itself, and the time the
	// kernel reports is that of the run that completed, so Reset is never
	// called.
	//
	// Deprecated: report per-operation times with testing.B.ReportMetric.
	Reset func()

	// Duration receives the mean time of one run (of the Repeat runs) as
	// the kernel measured it around the program alone (the duration of
	// BPF_PROG_TEST_RUN, in whole nanoseconds, at most about 4.3 s). It
	// is zero after an error, and for program types whose test runner
	// measures no time (syscall, raw tracepoint and tracing programs).
	// Costs nothing beyond the run. An addition to cilium/ebpf v0.22's
	// API, where only Benchmark reports the time.
	Duration time.Duration
}

// outputPad is how much larger than the input Test makes the output
// buffer, for programs that grow the packet (bpf_xdp_adjust_head and
// friends).
const outputPad = 256 + 2

// Run runs the program once (or Repeat times) in the kernel on opts' input
// and returns the program's return value. DataOut and ContextOut are
// shortened to what the kernel wrote, and Duration receives the mean time
// of a run.
//
// One bpf(2) call.
// Requires Linux 4.12; program types without a test runner give an error
// wrapping ErrNotSupported.
func (p *Program) Run(opts *RunOptions) (uint32, error) {
	ret, _, err := p.run(opts)
	if err != nil {
		return ret, fmt.Errorf("run program %q: %w", p.name, err)
	}
	return ret, nil
}

// Test runs the program once on in and returns its return value and the
// output data. The output buffer is len(in)+258 bytes; a program that
// grows the packet beyond that gives an error wrapping ENOSPC.
//
// Requires Linux 4.12.
func (p *Program) Test(in []byte) (uint32, []byte, error) {
	opts := RunOptions{Data: in, DataOut: make([]byte, len(in)+outputPad), Repeat: 1}
	ret, _, err := p.run(&opts)
	if err != nil {
		return ret, nil, fmt.Errorf("test program %q: %w", p.name, err)
	}
	return ret, opts.DataOut, nil
}

// Benchmark runs the program repeat times on in and returns the last
// return value and the average time per run as the kernel measured it.
// reset is not called (see RunOptions.Reset).
//
// Requires Linux 4.12.
func (p *Program) Benchmark(in []byte, repeat int, reset func()) (uint32, time.Duration, error) {
	if repeat < 0 || uint64(repeat) > uint64(^uint32(0)) {
		return 0, 0, fmt.Errorf("benchmark program %q: repeat %d out of range", p.name, repeat)
	}
	ret, d, err := p.run(&RunOptions{Data: in, Repeat: uint32(repeat), Reset: reset})
	if err != nil {
		return ret, 0, fmt.Errorf("benchmark program %q: %w", p.name, err)
	}
	return ret, d, nil
}

func (p *Program) run(opts *RunOptions) (uint32, time.Duration, error) {
	if opts == nil {
		return 0, 0, errors.New("nil RunOptions")
	}
	opts.Duration = 0
	if p.fd == nil || p.fd.Int() < 0 {
		return 0, 0, errors.New("program is closed")
	}

	ctxIn, err := contextIn(opts.Context)
	if err != nil {
		return 0, 0, fmt.Errorf("context: %w", err)
	}
	ctxOut, err := contextOut(opts.ContextOut)
	if err != nil {
		return 0, 0, fmt.Errorf("context out: %w", err)
	}

	attr := sys.ProgRunAttr{
		ProgFd:      p.fd.Uint(),
		DataSizeIn:  uint32(len(opts.Data)),
		DataSizeOut: uint32(len(opts.DataOut)),
		DataIn:      sys.NewSlicePointer(opts.Data),
		DataOut:     sys.NewSlicePointer(opts.DataOut),
		Repeat:      opts.Repeat,
		CtxSizeIn:   uint32(len(ctxIn.buf)),
		CtxSizeOut:  uint32(len(ctxOut.buf)),
		CtxIn:       sys.NewSlicePointer(ctxIn.buf),
		CtxOut:      sys.NewSlicePointer(ctxOut.buf),
		Flags:       opts.Flags,
		Cpu:         opts.CPU,
		BatchSize:   opts.BatchSize,
	}
	err = sys.ProgRun(&attr)
	runtime.KeepAlive(p)
	if err != nil {
		switch {
		case errors.Is(err, sys.ENOTSUPP):
			return 0, 0, &internal.UnsupportedFeatureError{Name: fmt.Sprintf("test run of program type %s", p.typ)}
		case errors.Is(err, unix.ENOSPC):
			return attr.Retval, 0, fmt.Errorf("output needs %d bytes of data and %d of context, more than the buffers hold: %w",
				attr.DataSizeOut, attr.CtxSizeOut, err)
		}
		return 0, 0, err
	}

	if opts.DataOut != nil {
		opts.DataOut = opts.DataOut[:min(int(attr.DataSizeOut), len(opts.DataOut))]
	}
	if err := ctxIn.finish(opts.Context); err != nil {
		return attr.Retval, 0, fmt.Errorf("context: %w", err)
	}
	if b, ok := opts.ContextOut.([]byte); ok {
		opts.ContextOut = b[:min(int(attr.CtxSizeOut), len(b))]
	} else if err := ctxOut.finish(opts.ContextOut); err != nil {
		return attr.Retval, 0, fmt.Errorf("context out: %w", err)
	}
	opts.Duration = time.Duration(attr.Duration)
	return attr.Retval, opts.Duration, nil
}

// contextBuffer is the memory the kernel reads a context from or writes
// one to: a caller's []byte or pointed-to value itself where its layout
// allows, else a copy.
type contextBuffer struct {
	buf    []byte
	codec  *sysenc.Codec
	direct bool // buf is the caller's memory
}

// contextLayoutSize returns the C size of the value v holds or points to.
func contextLayoutSize(v any) (int, error) {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	l, err := sysenc.LayoutOf(t)
	if err != nil {
		return 0, err
	}
	return l.Size(), nil
}

// contextIn prepares the input context. The kernel writes into it for
// syscall programs (BPF_PROG_TYPE_SYSCALL have no output context), so a
// pointer gets those writes; a value passed by value gets a private copy.
func contextIn(ctx any) (contextBuffer, error) {
	switch v := ctx.(type) {
	case nil:
		return contextBuffer{}, nil
	case []byte:
		return contextBuffer{buf: v, direct: true}, nil
	}
	size, err := contextLayoutSize(ctx)
	if err != nil {
		return contextBuffer{}, err
	}
	codec := sysenc.CodecOf(ctx)
	if reflect.TypeOf(ctx).Kind() == reflect.Pointer {
		if p, ok := codec.Sink(ctx, size); ok {
			return contextBuffer{buf: unsafe.Slice((*byte)(p), size), codec: codec, direct: true}, nil
		}
	}
	b, err := codec.Marshal(ctx, size)
	if err != nil {
		return contextBuffer{}, err
	}
	return contextBuffer{buf: b.Bytes(), codec: codec}, nil
}

// contextOut prepares the buffer for the output context: a []byte, or a
// pointer to a fixed-size value.
func contextOut(out any) (contextBuffer, error) {
	switch v := out.(type) {
	case nil:
		return contextBuffer{}, nil
	case []byte:
		return contextBuffer{buf: v, direct: true}, nil
	}
	if reflect.TypeOf(out).Kind() != reflect.Pointer {
		return contextBuffer{}, fmt.Errorf("%T is neither a pointer nor a []byte", out)
	}
	size, err := contextLayoutSize(out)
	if err != nil {
		return contextBuffer{}, err
	}
	codec := sysenc.CodecOf(out)
	if p, ok := codec.Sink(out, size); ok {
		return contextBuffer{buf: unsafe.Slice((*byte)(p), size), codec: codec, direct: true}, nil
	}
	return contextBuffer{buf: make([]byte, size), codec: codec}, nil
}

// finish hands what the kernel wrote into the buffer to v, the caller's
// pointer; values passed by value and []byte need nothing.
func (cb contextBuffer) finish(v any) error {
	if cb.codec == nil || reflect.TypeOf(v).Kind() != reflect.Pointer {
		return nil
	}
	if cb.direct {
		cb.codec.Finish(unsafe.Pointer(unsafe.SliceData(cb.buf)), len(cb.buf))
		return nil
	}
	return cb.codec.Unmarshal(v, cb.buf)
}
