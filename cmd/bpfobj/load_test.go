package main

import (
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestLoad(t *testing.T) {
	testutils.RequireRoot(t)
	file := object("bpfobj_default")

	out, stderr, code := bpfobj(t, "load", file)
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
	qt.Assert(t, qt.StringContains(out, file+": loaded 2 programs and 3 maps"))
	assertRows(t, out, []string{"LOADED", "INSNS", "PROCESSED", "STATES", "(TOTAL/PEAK)", "VERIFY", "TIME", "STACK"})
	qt.Assert(t, qt.IsTrue(hasRow(out, "socket_count")))
	qt.Assert(t, qt.IsTrue(hasRow(out, "xdp_count")))

	r, _, code := bpfobjJSON(t, "load", file)
	qt.Assert(t, qt.Equals(code, exitOK))
	qt.Assert(t, qt.IsTrue(r.Load.OK))
	qt.Assert(t, qt.Equals(r.Load.Maps, 3))
	qt.Assert(t, qt.HasLen(r.Load.Programs, 2))
	for i, name := range []string{"socket_count", "xdp_count"} {
		st := r.Load.Programs[i]
		qt.Assert(t, qt.Equals(st.Name, name))
		// Both programs are straight-line code calling one subprogram:
		// the verifier walks every instruction once.
		qt.Check(t, qt.IsTrue(st.Processed >= 20 && st.Processed <= 40), qt.Commentf("%+v", st))
		qt.Check(t, qt.Equals(st.Limit, uint64(1_000_000)))
		qt.Check(t, qt.Not(qt.Equals(st.TotalStates, 0)))
		qt.Check(t, qt.Equals(st.StackDepth, "0+8"))
	}
	qt.Assert(t, qt.Equals(r.Object.File, file))
}

func TestLoadOneProgram(t *testing.T) {
	testutils.RequireRoot(t)
	r, stderr, code := bpfobjJSON(t, "load", "-prog", "good", object("err_verifier"))
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
	qt.Assert(t, qt.HasLen(r.Load.Programs, 1))
	qt.Assert(t, qt.Equals(r.Load.Programs[0].Name, "good"))

	// Leaving programs out of a program array is said.
	out, _, code := bpfobj(t, "load", "-prog", "entry", object("map_values"))
	qt.Assert(t, qt.Equals(code, exitOK))
	qt.Assert(t, qt.StringContains(out, "note: program array jump_table: left out the entries of tail_1, tail_2"))
}

// The broken object: the verifier rejects oob_read, and the output names the
// source line.
func TestLoadVerifierError(t *testing.T) {
	testutils.RequireRoot(t)
	file := object("err_verifier")

	out, stderr, code := bpfobj(t, "load", file)
	qt.Assert(t, qt.Equals(code, exitFailure))
	qt.Assert(t, qt.StringContains(out, "the kernel rejected program oob_read\n"))
	qt.Assert(t, qt.StringContains(out, "invalid access to map value, value_size=8 off=24 size=8"))
	assertRows(t, out, []string{"source:", "err_verifier.c:32:", "return", "value[3];"})
	qt.Assert(t, qt.StringContains(out, "(-v prints it)"))
	qt.Assert(t, qt.StringContains(stderr, "bpfobj load: "))
	qt.Assert(t, qt.StringContains(stderr, "oob_read"))

	out, _, code = bpfobj(t, "load", "-v", file)
	qt.Assert(t, qt.Equals(code, exitFailure))
	qt.Assert(t, qt.StringContains(out, "verifier log:"))
	// The whole log, with the source line the kernel annotates it with
	// (newer kernels also append "@ file:line", 6.1 does not).
	qt.Assert(t, qt.Matches(out, `(?s).*\n\s*; return value\[3\];( @ err_verifier\.c:32)?\n.*`))

	r, _, code := bpfobjJSON(t, "load", "-v", file)
	qt.Assert(t, qt.Equals(code, exitFailure))
	qt.Assert(t, qt.IsFalse(r.Load.OK))
	vf := r.Load.Verifier
	qt.Assert(t, qt.IsNotNil(vf))
	qt.Assert(t, qt.Equals(vf.Program, "oob_read"))
	qt.Assert(t, qt.Equals(vf.Source, "err_verifier.c:32"))
	qt.Assert(t, qt.Equals(vf.SourceLine, "return value[3];"))
	qt.Assert(t, qt.StringContains(vf.Cause, "invalid access to map value"))
	qt.Assert(t, qt.Not(qt.HasLen(vf.Log, 0)))
	qt.Assert(t, qt.StringContains(r.Error, "oob_read"))

	// run loads the whole object first, so it fails the same way.
	_, _, code = bpfobj(t, "run", file, "good")
	qt.Assert(t, qt.Equals(code, exitFailure))
}

func TestRunXDP(t *testing.T) {
	testutils.RequireRoot(t)
	file := object("bpfobj_default")

	r, stderr, code := bpfobjJSON(t, "run", file, "xdp_count", "-repeat", "3")
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
	qt.Assert(t, qt.HasLen(r.Run, 1))
	rr := r.Run[0]
	qt.Assert(t, qt.Equals(rr.Program, "xdp_count"))
	qt.Assert(t, qt.Equals(rr.Return, uint32(2)))
	qt.Assert(t, qt.Equals(rr.ReturnName, "XDP_PASS"))
	qt.Assert(t, qt.Equals(rr.Repeat, uint32(3)))
	qt.Assert(t, qt.Equals(rr.DataIn, hex.EncodeToString(samplePacket)))
	qt.Assert(t, qt.Equals(rr.DataInNote, "64-byte sample packet"))
	qt.Assert(t, qt.Equals(rr.DataOut, rr.DataIn))
	// XDP's test runner times the program itself.
	qt.Assert(t, qt.IsTrue(rr.MeanNanos > 0))
	qt.Assert(t, qt.Equals(rr.TimeSource, "kernel"))
	// The object's comment: packets[0] = runs, bytes = 64 x runs,
	// runs = 100 + runs.
	qt.Assert(t, qt.HasLen(rr.Variables, 2))
	qt.Assert(t, qt.Equals(rr.Variables[0].Name+"="+rr.Variables[0].Value, "bytes=192"))
	qt.Assert(t, qt.Equals(rr.Variables[1].Name+"="+rr.Variables[1].Value, "runs=103"))
	qt.Assert(t, qt.HasLen(rr.Maps, 1))
	qt.Assert(t, qt.Equals(rr.Maps[0].Name, "packets"))
	qt.Assert(t, qt.HasLen(rr.Maps[0].Entries, 1))
	qt.Assert(t, qt.Equals(rr.Maps[0].Entries[0].Key+"="+rr.Maps[0].Entries[0].Value, "0=3"))
	qt.Assert(t, qt.HasLen(r.Load.Programs, 2))

	out, _, code := bpfobj(t, "run", "-repeat", "2", file, "xdp_count")
	qt.Assert(t, qt.Equals(code, exitOK))
	assertRows(t, out,
		[]string{"RUN", "xdp_count"},
		[]string{"return", "2", "(XDP_PASS)"},
		[]string{"data", "in", "64", "bytes", "(sample", "packet):"},
		[]string{"data", "out", "64", "bytes", "(unchanged)"},
		[]string{"mean", "time"},
		[]string{"after", "bytes", "=", "128", "(.bss)"},
		[]string{"runs", "=", "102", "(.data)"},
		[]string{"packets[0]", "=", "2"},
	)
	qt.Assert(t, qt.StringContains(out, "per run, 2 runs (measured by the kernel)"))
}

func TestRunData(t *testing.T) {
	testutils.RequireRoot(t)
	file := object("bpfobj_default")
	packet := strings.Repeat("ab", 100)

	r, stderr, code := bpfobjJSON(t, "run", "-data", packet, file, "socket_count")
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
	rr := r.Run[0]
	// The kernel pulls the 14-byte Ethernet header before the socket
	// filter runs; the program returns skb->len.
	qt.Assert(t, qt.Equals(rr.Return, uint32(100-14)))
	qt.Assert(t, qt.Equals(rr.ReturnName, "keep 86 bytes"))
	qt.Assert(t, qt.Equals(rr.DataInNote, ""))

	data := filepath.Join(t.TempDir(), "packet.bin")
	qt.Assert(t, qt.IsNil(os.WriteFile(data, samplePacket[:20], 0o644)))
	r, _, code = bpfobjJSON(t, "run", "-data", "@"+data, file, "xdp_count")
	qt.Assert(t, qt.Equals(code, exitOK))
	qt.Assert(t, qt.Equals(r.Run[0].DataIn, hex.EncodeToString(samplePacket[:20])))
	qt.Assert(t, qt.Equals(r.Run[0].Variables[0].Value, "20"))

	// Too short for an Ethernet header: the kernel refuses it.
	_, stderr, code = bpfobj(t, "run", "-data", "0102", file, "xdp_count")
	qt.Assert(t, qt.Equals(code, exitFailure))
	qt.Assert(t, qt.StringContains(stderr, "invalid argument"))
	qt.Assert(t, qt.StringContains(stderr, "at least 14 bytes"))
}

func TestRunSyscallContext(t *testing.T) {
	testutils.RequireRoot(t)
	// struct args {u32 a = 6; u32 b = 7; u64 out;}: returns a*b, writes a+b
	// (Linux 5.14 has syscall programs).
	ctx := "06000000" + "07000000" + "0000000000000000"
	want := "06000000" + "07000000" + "0d00000000000000"
	if isBigEndian(binary.NativeEndian) {
		ctx = "00000006" + "00000007" + "0000000000000000"
		want = "00000006" + "00000007" + "000000000000000d"
	}
	r, stderr, code := bpfobjJSON(t, "run", "-ctx", ctx, object("syscall"), "syscall_prog")
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
	qt.Assert(t, qt.Equals(r.Run[0].Return, uint32(42)))
	qt.Assert(t, qt.Equals(r.Run[0].CtxOut, want))
	// The kernel times no syscall program: the wall clock stands in.
	qt.Assert(t, qt.Equals(r.Run[0].TimeSource, "wall"))
	qt.Assert(t, qt.IsTrue(r.Run[0].MeanNanos > 0))

	_, stderr, code = bpfobj(t, "run", "-ctx", ctx, "-repeat", "2", object("syscall"), "syscall_prog")
	qt.Assert(t, qt.Equals(code, exitUsage))
	qt.Assert(t, qt.StringContains(stderr, "syscall programs run once"))
}

func TestRunTailCalls(t *testing.T) {
	testutils.RequireRoot(t)
	r, stderr, code := bpfobjJSON(t, "run", object("map_values"), "entry")
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
	qt.Assert(t, qt.Equals(r.Run[0].Return, uint32(42)))
	// 42 is no TC_ACT_* value: the number stands alone.
	qt.Assert(t, qt.Equals(r.Run[0].ReturnName, ""))
}

// Program types without a test runner load, then fail to run with a
// message that says so.
func TestRunUnsupported(t *testing.T) {
	testutils.RequireRoot(t)
	_, stderr, code := bpfobj(t, "run", object("link_tracepoint"), "tp_getpid")
	qt.Assert(t, qt.Equals(code, exitFailure))
	qt.Assert(t, qt.StringContains(stderr, "test run of program type TracePoint not supported"))
}
