package ebpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/sys"
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
	// Repeat is how often the program runs; 0 means once. Benchmark
	// reports the average time.
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
}

// outputPad is how much larger than the input Test makes the output
// buffer, for programs that grow the packet (bpf_xdp_adjust_head and
// friends).
const outputPad = 256 + 2

// Run runs the program once (or Repeat times) in the kernel on opts' input
// and returns the program's return value. DataOut and ContextOut are
// shortened to what the kernel wrote.
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
	if p.fd == nil || p.fd.Int() < 0 {
		return 0, 0, errors.New("program is closed")
	}

	ctxIn, err := contextBytes(opts.Context)
	if err != nil {
		return 0, 0, fmt.Errorf("context: %w", err)
	}
	ctxOut, err := contextOutBuffer(opts.ContextOut)
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
		CtxSizeIn:   uint32(len(ctxIn)),
		CtxSizeOut:  uint32(len(ctxOut)),
		CtxIn:       sys.NewSlicePointer(ctxIn),
		CtxOut:      sys.NewSlicePointer(ctxOut),
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
	if err := storeContextIn(opts.Context, ctxIn); err != nil {
		return attr.Retval, 0, fmt.Errorf("context: %w", err)
	}
	if opts.ContextOut != nil {
		n := min(int(attr.CtxSizeOut), len(ctxOut))
		if err := storeContextOut(opts, ctxOut, n); err != nil {
			return attr.Retval, 0, fmt.Errorf("context out: %w", err)
		}
	}
	return attr.Retval, time.Duration(attr.Duration), nil
}

// contextBytes encodes a context for the kernel: a []byte as it is, any
// other fixed-size value in the host's byte order.
func contextBytes(ctx any) ([]byte, error) {
	switch v := ctx.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	}
	if binary.Size(ctx) < 0 {
		return nil, fmt.Errorf("%T is not a fixed-size value", ctx)
	}
	var buf bytes.Buffer
	if err := binary.Write(&buf, internal.NativeEndian, ctx); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// contextOutBuffer returns the buffer the kernel writes the context into:
// the caller's []byte, or a scratch buffer the size of the value a pointer
// points at.
func contextOutBuffer(out any) ([]byte, error) {
	switch v := out.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	}
	if rv := reflect.ValueOf(out); rv.Kind() != reflect.Pointer && rv.Kind() != reflect.Slice {
		return nil, fmt.Errorf("%T is neither a pointer nor a slice", out)
	}
	size := binary.Size(out)
	if size < 0 {
		return nil, fmt.Errorf("%T is not a fixed-size value", out)
	}
	return make([]byte, size), nil
}

// storeContextIn decodes the input context back into the value a pointer
// Context points at: syscall programs (BPF_PROG_TYPE_SYSCALL) have no
// output context and write into their input. A []byte got the kernel's
// writes directly.
func storeContextIn(ctx any, buf []byte) error {
	if ctx == nil || reflect.TypeOf(ctx).Kind() != reflect.Pointer {
		return nil
	}
	return binary.Read(bytes.NewReader(buf), internal.NativeEndian, ctx)
}

// storeContextOut hands the context the kernel wrote (n bytes of buf)
// back to the caller. A value gets all of buf: bytes the kernel didn't
// write are zero.
func storeContextOut(opts *RunOptions, buf []byte, n int) error {
	if b, ok := opts.ContextOut.([]byte); ok {
		opts.ContextOut = b[:n]
		return nil
	}
	return binary.Read(bytes.NewReader(buf), internal.NativeEndian, opts.ContextOut)
}
