package perf

import (
	"runtime"
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/linux"
	"github.com/bpfkit/ebpf/internal/testutils"
	"github.com/bpfkit/ebpf/rlimit"
)

func TestMain(m *testing.M) { testutils.TestMain(m, rlimit.RemoveMemlock) }

const maxSample = 512

// XDP return values of testdata/perf.c's emit.
const (
	xdpAborted = 0
	xdpDrop    = 1 // bpf_perf_event_output failed
	xdpPass    = 2
)

// testArray is testdata/perf.c loaded, with the payload the test chose.
type testArray struct {
	Events  *ebpf.Map     `ebpf:"events"`
	Payload *ebpf.Map     `ebpf:"payload"`
	Emit    *ebpf.Program `ebpf:"emit"`

	payload [maxSample]byte
}

// newTestArray needs root; everything is closed when the test ends.
func newTestArray(tb testing.TB) *testArray {
	tb.Helper()
	testutils.RequireRoot(tb)
	spec, err := ebpf.LoadCollectionSpec(testutils.ObjectPath("perf"))
	qt.Assert(tb, qt.IsNil(err))
	var ta testArray
	err = spec.LoadAndAssign(&ta, nil)
	testutils.SkipIfNotSupported(tb, err)
	qt.Assert(tb, qt.IsNil(err))
	tb.Cleanup(func() {
		ta.Events.Close()
		ta.Payload.Close()
		ta.Emit.Close()
	})
	for i := range ta.payload {
		ta.payload[i] = byte(i*5 + 1)
	}
	qt.Assert(tb, qt.IsNil(ta.Payload.Put(uint32(0), ta.payload)))
	return &ta
}

// emit runs the program repeat times (at least once) on cpu, sending
// samples of size bytes, and returns the last run's verdict.
func (ta *testArray) emit(tb testing.TB, cpu int, size uint32, repeat uint32) uint32 {
	tb.Helper()
	pkt := make([]byte, 64)
	internal.NativeEndian.PutUint32(pkt, size)
	var ret uint32
	onCPU(tb, cpu, func() {
		var err error
		ret, err = ta.Emit.Run(&ebpf.RunOptions{Data: pkt, Repeat: repeat})
		qt.Assert(tb, qt.IsNil(err))
	})
	qt.Assert(tb, qt.Not(qt.Equals(ret, xdpAborted)))
	return ret
}

// output sends one sample and fails the test if the helper failed.
func (ta *testArray) output(tb testing.TB, cpu int, size uint32) {
	tb.Helper()
	qt.Assert(tb, qt.Equals(ta.emit(tb, cpu, size, 1), xdpPass), qt.Commentf("bpf_perf_event_output on CPU %d failed", cpu))
}

// sample is what run number seq sends with size bytes, as the Reader
// returns it: padded so that the 4-byte size and the data are a multiple
// of 8 bytes. The padding is not checked (the kernel leaves it as is).
func (ta *testArray) sample(seq uint64, size int) []byte {
	buf := ta.payload
	internal.NativeEndian.PutUint64(buf[:8], seq)
	return append([]byte{}, buf[:size]...)
}

func paddedLen(size int) int {
	return (size+4+7)&^7 - 4
}

// recordSize is the space a sample of size bytes takes in a ring.
func recordSize(size int) int {
	return eventHeaderSize + 4 + paddedLen(size)
}

// checkSample asserts that rec carries run seq's sample of size bytes.
func (ta *testArray) checkSample(tb testing.TB, rec Record, seq uint64, size int) {
	tb.Helper()
	qt.Assert(tb, qt.Equals(len(rec.RawSample), paddedLen(size)), qt.Commentf("sample %d", seq))
	qt.Assert(tb, qt.CmpEquals(rec.RawSample[:size], ta.sample(seq, size), cmpopts.EquateEmpty()), qt.Commentf("sample %d", seq))
	qt.Assert(tb, qt.Equals(rec.LostSamples, 0))
}

// onCPU runs fn on a thread bound to cpu, so that BPF_F_CURRENT_CPU is
// cpu.
func onCPU(tb testing.TB, cpu int, fn func()) {
	tb.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, set unix.CPUSet
	qt.Assert(tb, qt.IsNil(unix.SchedGetaffinity(0, &old)))
	set.Set(cpu)
	qt.Assert(tb, qt.IsNil(unix.SchedSetaffinity(0, &set)), qt.Commentf("bind to CPU %d", cpu))
	defer func() {
		qt.Assert(tb, qt.IsNil(unix.SchedSetaffinity(0, &old)))
	}()
	fn()
}

// onlineCPUs lists the CPUs this test may bind to.
func onlineCPUs(tb testing.TB) []int {
	tb.Helper()
	var set unix.CPUSet
	qt.Assert(tb, qt.IsNil(unix.SchedGetaffinity(0, &set)))
	n, err := linux.PossibleCPUs()
	qt.Assert(tb, qt.IsNil(err))
	var cpus []int
	for cpu := range n {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus
}

func newTestReader(tb testing.TB, ta *testArray, perCPUBuffer int, opts ReaderOptions) *Reader {
	tb.Helper()
	rd, err := NewReaderWithOptions(ta.Events, perCPUBuffer, opts)
	testutils.SkipIfNotSupported(tb, err)
	qt.Assert(tb, qt.IsNil(err))
	tb.Cleanup(func() { rd.Close() })
	return rd
}
