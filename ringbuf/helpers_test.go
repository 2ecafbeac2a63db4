package ringbuf

import (
	"testing"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/testutils"
	"github.com/bpfkit/ebpf/rlimit"
)

func TestMain(m *testing.M) { testutils.TestMain(m, rlimit.RemoveMemlock) }

// Commands of testdata/ringbuf.c.
const (
	opOutput  = 0
	opSubmit  = 1
	opDiscard = 2

	rbNoWakeup    = 1 // BPF_RB_NO_WAKEUP
	rbForceWakeup = 2 // BPF_RB_FORCE_WAKEUP

	maxSample = 512
)

// XDP return values of testdata/ringbuf.c's emit.
const (
	xdpAborted = 0
	xdpDrop    = 1 // the ring had no room
	xdpPass    = 2
)

// testRing is testdata/ringbuf.c loaded with a ring buffer of the given
// size, and the payload the test chose.
type testRing struct {
	Events  *ebpf.Map     `ebpf:"events"`
	Payload *ebpf.Map     `ebpf:"payload"`
	Emit    *ebpf.Program `ebpf:"emit"`

	payload [maxSample]byte
}

// newTestRing needs root; everything is closed when the test ends.
func newTestRing(tb testing.TB, size uint32) *testRing {
	tb.Helper()
	testutils.RequireRoot(tb)
	spec, err := ebpf.LoadCollectionSpec(testutils.ObjectPath("ringbuf"))
	qt.Assert(tb, qt.IsNil(err))
	spec.Maps["events"].MaxEntries = size

	var tr testRing
	err = spec.LoadAndAssign(&tr, nil)
	testutils.SkipIfNotSupported(tb, err)
	qt.Assert(tb, qt.IsNil(err))
	tb.Cleanup(func() {
		tr.Events.Close()
		tr.Payload.Close()
		tr.Emit.Close()
	})
	for i := range tr.payload {
		tr.payload[i] = byte(i*7 + 3)
	}
	qt.Assert(tb, qt.IsNil(tr.Payload.Put(uint32(0), tr.payload)))
	return &tr
}

// run runs emit repeat times (at least once) with one command and returns
// the last run's XDP verdict.
func (tr *testRing) run(tb testing.TB, op, size uint32, flags uint64, repeat uint32) uint32 {
	tb.Helper()
	pkt := make([]byte, 64)
	internal.NativeEndian.PutUint32(pkt[0:], op)
	internal.NativeEndian.PutUint32(pkt[4:], size)
	internal.NativeEndian.PutUint64(pkt[8:], flags)
	ret, err := tr.Emit.Run(&ebpf.RunOptions{Data: pkt, Repeat: repeat})
	qt.Assert(tb, qt.IsNil(err))
	qt.Assert(tb, qt.Not(qt.Equals(ret, xdpAborted)), qt.Commentf("emit rejected op %d size %d", op, size))
	return ret
}

// output makes the program publish one sample of size bytes with
// bpf_ringbuf_output and fails the test if the ring is full.
func (tr *testRing) output(tb testing.TB, size uint32, flags uint64) {
	tb.Helper()
	qt.Assert(tb, qt.Equals(tr.run(tb, opOutput, size, flags, 1), xdpPass), qt.Commentf("ring full"))
}

// outputSample is the sample that run number seq publishes with
// bpf_ringbuf_output of size bytes.
func (tr *testRing) outputSample(seq uint64, size int) []byte {
	buf := tr.payload
	internal.NativeEndian.PutUint64(buf[:8], seq)
	return append([]byte{}, buf[:size]...)
}

// submitSample is the sample of run number seq with OP_SUBMIT.
func (tr *testRing) submitSample(seq uint64) []byte {
	buf := make([]byte, 16)
	internal.NativeEndian.PutUint64(buf, seq)
	copy(buf[8:], tr.payload[8:16])
	return buf
}

// recordSize is the space a sample of n bytes takes in the ring.
func recordSize(n int) int {
	return (headerSize + n + 7) &^ 7
}

// newTestReader opens a Reader on tr's ring, closed when the test ends.
func newTestReader(tb testing.TB, tr *testRing) *Reader {
	tb.Helper()
	rd, err := NewReader(tr.Events)
	qt.Assert(tb, qt.IsNil(err))
	tb.Cleanup(func() { rd.Close() })
	return rd
}

// sameSample compares samples, a nil and an empty one being the same.
func sameSample[T any](got, want T) qt.Checker {
	return qt.CmpEquals(got, want, cmpopts.EquateEmpty())
}
