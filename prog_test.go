package ebpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/kallsyms"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
	"github.com/bpfkit/ebpf/internal/typeprobe"
)

// returnProgram returns a socket filter spec that returns value.
func returnProgram(name string, value int32) *ProgramSpec {
	return &ProgramSpec{
		Name: name,
		Type: SocketFilter,
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, value).WithSymbol(name),
			asm.Return(),
		},
		License: "MIT",
	}
}

func mustNewProgram(tb testing.TB, spec *ProgramSpec, opts ProgramOptions) *Program {
	tb.Helper()
	prog, err := NewProgramWithOptions(spec, opts)
	testutils.SkipIfNotSupported(tb, err)
	qt.Assert(tb, qt.IsNil(err))
	tb.Cleanup(func() { prog.Close() })
	return prog
}

var packet = make([]byte, 64)

func TestProgramRun(t *testing.T) {
	testutils.RequireRoot(t)
	spec := returnProgram("ret_42", 42)
	spec.ByteOrder = binary.NativeEndian
	prog := mustNewProgram(t, spec, ProgramOptions{})

	qt.Check(t, qt.Equals(prog.Type(), SocketFilter))
	qt.Check(t, qt.Equals(prog.VerifierLog, ""))
	qt.Check(t, qt.IsTrue(prog.FD() > 0))
	qt.Check(t, qt.Matches(prog.String(), `SocketFilter\(ret_42\)#fd \d+`))

	ret, out, err := prog.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(42)))
	qt.Check(t, qt.DeepEquals(out, packet))

	opts := RunOptions{Data: packet, DataOut: make([]byte, 1024), Repeat: 3}
	ret, err = prog.Run(&opts)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(42)))
	qt.Check(t, qt.HasLen(opts.DataOut, len(packet)))

	ret, d, err := prog.Benchmark(packet, 100, nil)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(42)))
	qt.Check(t, qt.IsTrue(d >= 0))

	_, err = prog.Run(nil)
	qt.Check(t, qt.ErrorMatches(err, `run program "ret_42": nil RunOptions`))

	qt.Assert(t, qt.IsNil(prog.Close()))
	qt.Check(t, qt.Equals(prog.FD(), -1))
	qt.Check(t, qt.IsNil(prog.Close()))
	_, _, err = prog.Test(packet)
	qt.Check(t, qt.ErrorMatches(err, `test program "ret_42": program is closed`))
}

func TestProgramRunContext(t *testing.T) {
	testutils.RequireRoot(t)
	// A syscall program reading two u32 from its context and writing
	// their sum into the third.
	spec := &ProgramSpec{
		Name:  "ctx_sum",
		Type:  Syscall,
		Flags: sys.BPF_F_SLEEPABLE,
		Instructions: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
			asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
			asm.Add.Reg(asm.R2, asm.R3),
			asm.StoreMem(asm.R1, 8, asm.R2, asm.Word),
			asm.Mov.Reg(asm.R0, asm.R2),
			asm.Return(),
		},
		License: "GPL",
	}
	prog := mustNewProgram(t, spec, ProgramOptions{})

	// Syscall programs write into their input context.
	type ctx struct{ A, B, Sum uint32 }
	in := ctx{6, 7, 0}
	ret, err := prog.Run(&RunOptions{Context: &in})
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(13)))
	qt.Check(t, qt.Equals(in, ctx{6, 7, 13}))

	raw := make([]byte, 12)
	internal.NativeEndian.PutUint32(raw, 1)
	internal.NativeEndian.PutUint32(raw[4:], 2)
	ret, err = prog.Run(&RunOptions{Context: raw})
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(3)))
	qt.Check(t, qt.Equals(internal.NativeEndian.Uint32(raw[8:]), 3))

	_, err = prog.Run(&RunOptions{Context: []int{1}})
	qt.Check(t, qt.ErrorMatches(err, `.*context: \[\]int: no fixed-size layout.*`))
	_, err = prog.Run(&RunOptions{Context: ctx{}, ContextOut: in})
	qt.Check(t, qt.ErrorMatches(err, `.*context out: .* is neither a pointer nor a \[\]byte`))

	// A tc program gets its __sk_buff back in ContextOut.
	tc := mustNewProgram(t, &ProgramSpec{Name: "tc_len", Type: SchedCLS, License: "MIT", Instructions: asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), // skb->len
		asm.Return(),
	}}, ProgramOptions{})
	opts := RunOptions{Data: packet, ContextOut: make([]byte, 1024)}
	ret, err = tc.Run(&opts)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(len(packet))))
	out := opts.ContextOut.([]byte)
	qt.Check(t, qt.IsTrue(len(out) > 100 && len(out) < 1024), qt.Commentf("len %d", len(out)))
}

// TestProgramRunDuration checks RunOptions.Duration, the mean time of a
// run as BPF_PROG_TEST_RUN measures it.
func TestProgramRunDuration(t *testing.T) {
	testutils.RequireRoot(t)
	// Some work for the kernel to time: 512 additions.
	insns := asm.Instructions{asm.Mov.Imm(asm.R0, 0).WithSymbol("busy")}
	for range 512 {
		insns = append(insns, asm.Add.Imm(asm.R0, 1))
	}
	insns = append(insns, asm.Return())
	prog := mustNewProgram(t, &ProgramSpec{Name: "busy", Type: SocketFilter, License: "MIT", Instructions: insns}, ProgramOptions{})

	for _, repeat := range []uint32{0, 1, 1000} {
		opts := RunOptions{Data: packet, Repeat: repeat}
		ret, err := prog.Run(&opts)
		qt.Assert(t, qt.IsNil(err))
		qt.Check(t, qt.Equals(ret, uint32(512)))
		qt.Check(t, qt.IsTrue(opts.Duration > 0 && opts.Duration < time.Second), qt.Commentf("repeat %d: %v", repeat, opts.Duration))
	}

	// A failed run leaves no stale time behind: socket filters need at
	// least an Ethernet header.
	opts := RunOptions{Data: []byte{1}, Duration: time.Hour}
	_, err := prog.Run(&opts)
	qt.Assert(t, qt.ErrorIs(err, unix.EINVAL))
	qt.Check(t, qt.Equals(opts.Duration, 0))

	// The test runner of syscall programs measures no time.
	t.Run("syscall", func(t *testing.T) {
		sc := mustNewProgram(t, &ProgramSpec{Name: "sc", Type: Syscall, Flags: sys.BPF_F_SLEEPABLE, License: "GPL", Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 0), asm.Return(),
		}}, ProgramOptions{})
		opts := RunOptions{Duration: time.Hour}
		_, err := sc.Run(&opts)
		qt.Assert(t, qt.IsNil(err))
		qt.Check(t, qt.Equals(opts.Duration, 0))
	})
}

func TestProgramVerifierError(t *testing.T) {
	testutils.RequireRoot(t)
	spec := &ProgramSpec{
		Name:         "no_r0",
		Type:         SocketFilter,
		Instructions: asm.Instructions{asm.Return()},
		License:      "MIT",
	}

	for _, tc := range []struct {
		name    string
		opts    ProgramOptions
		wantLog bool
	}{
		{"default", ProgramOptions{}, true},
		{"level", ProgramOptions{LogLevel: LogLevelBranch}, true},
		{"small buffer", ProgramOptions{LogLevel: LogLevelInstruction, LogSizeStart: 1}, true},
		{"disabled", ProgramOptions{LogLevel: LogLevelBranch, LogDisabled: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewProgramWithOptions(spec, tc.opts)
			qt.Assert(t, qt.IsNotNil(err))
			var ve *VerifierError
			qt.Assert(t, qt.ErrorAs(err, &ve))
			qt.Check(t, qt.ErrorIs(err, unix.EACCES))
			qt.Check(t, qt.IsFalse(ve.Truncated))
			if !tc.wantLog {
				qt.Check(t, qt.HasLen(ve.Log, 0))
				qt.Check(t, qt.Equals(err.Error(), `program "no_r0": load program: permission denied`))
				return
			}
			qt.Check(t, qt.Equals(err.Error(), `program "no_r0": load program: permission denied: R0 !read_ok`))
			qt.Check(t, qt.StringContains(fmt.Sprintf("%+v", ve), "\n\t0: (95) exit"))
		})
	}
}

// TestProgramLoadPermission: an EPERM from BPF_PROG_LOAD comes before the
// verifier ran, so it is a plain error (as with cilium/ebpf, whose users
// branch on errors.As(err, &ve)), and its text says what the process holds.
func TestProgramLoadPermission(t *testing.T) {
	testutils.RequireRoot(t)
	spec := returnProgram("perm", 0)
	for _, opts := range []ProgramOptions{{}, {LogLevel: LogLevelBranch}, {LogDisabled: true}} {
		restore := sys.InjectFaults(func(cmd sys.Cmd, _ int) error {
			if cmd == sys.BPF_PROG_LOAD {
				return unix.EPERM
			}
			return nil
		})
		_, err := NewProgramWithOptions(spec, opts)
		restore()
		qt.Assert(t, qt.ErrorIs(err, unix.EPERM))
		var ve *VerifierError
		qt.Check(t, qt.IsFalse(errors.As(err, &ve)), qt.Commentf("%+v: %v", opts, err))
		// Root here holds CAP_BPF and CAP_SYS_ADMIN: the text must not ask
		// for them.
		qt.Check(t, qt.StringContains(err.Error(), "although the process holds"))
		qt.Check(t, qt.IsTrue(strings.HasPrefix(err.Error(), `program "perm": `)), qt.Commentf("%v", err))
	}
}

func TestProgramVerifierLog(t *testing.T) {
	testutils.RequireRoot(t)
	spec := returnProgram("logged", 0)

	prog := mustNewProgram(t, spec, ProgramOptions{LogLevel: LogLevelStats})
	qt.Check(t, qt.StringContains(prog.VerifierLog, "processed 2 insns"))

	// A log that outgrows its first buffer: the buffer grows and the whole
	// log is kept.
	long := make(asm.Instructions, 0, 2001)
	long = append(long, asm.Mov.Imm(asm.R0, 0).WithSymbol("long_log"))
	for i := 0; i < 1000; i++ {
		long = append(long, asm.Add.Imm(asm.R0, 1))
	}
	long = append(long, asm.Return())
	spec = &ProgramSpec{Name: "long_log", Type: SocketFilter, Instructions: long, License: "MIT"}
	prog = mustNewProgram(t, spec, ProgramOptions{LogLevel: LogLevelInstruction, LogSizeStart: 1024})
	qt.Check(t, qt.IsTrue(len(prog.VerifierLog) > 1024*8))
	qt.Check(t, qt.StringContains(prog.VerifierLog, "1001: (95) exit"))
	qt.Check(t, qt.StringContains(prog.VerifierLog, "processed 1002 insns"))
}

// TestProgramVerifierLogTruncated loads with a log limit far below the
// kernel's, so that the log can't fit: the error says so.
func TestProgramVerifierLogTruncated(t *testing.T) {
	testutils.RequireRoot(t)
	long := make(asm.Instructions, 0, 1002)
	long = append(long, asm.Mov.Imm(asm.R0, 0))
	for i := 0; i < 1000; i++ {
		long = append(long, asm.Add.Imm(asm.R0, 1))
	}
	long = append(long, asm.Return())
	code := make([]byte, 0, long.Size())
	buf := bytes.NewBuffer(code)
	qt.Assert(t, qt.IsNil(long.Marshal(buf, internal.NativeEndian)))
	code = buf.Bytes()

	attr := sys.ProgLoadAttr{
		ProgType: sys.BPF_PROG_TYPE_SOCKET_FILTER,
		InsnCnt:  uint32(len(code) / asm.InstructionSize),
		Insns:    sys.NewSlicePointer(code),
		License:  sys.NewStringPointer("MIT"),
	}
	_, _, err := loadLogged(&attr, LogLevelInstruction, 1024, 8192)
	var ve *VerifierError
	qt.Assert(t, qt.ErrorAs(err, &ve))
	qt.Check(t, qt.IsTrue(ve.Truncated))
	qt.Check(t, qt.ErrorIs(err, unix.ENOSPC))
	qt.Check(t, qt.StringContains(err.Error(), "(log truncated)"))
	qt.Check(t, qt.IsTrue(len(ve.Log) > 10))
}

func TestLogFull(t *testing.T) {
	full := []byte("abc\x00")
	full[2] = 'x'
	qt.Check(t, qt.IsTrue(logFull([]byte("abcd\x00"), 0)))
	qt.Check(t, qt.IsFalse(logFull([]byte("ab\x00\x00\x00"), 0)))
	qt.Check(t, qt.IsTrue(logFull(make([]byte, 10), 11)))
	qt.Check(t, qt.IsFalse(logFull(make([]byte, 10), 10)))
}

func TestProgramSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec *ProgramSpec
		want string
	}{
		{"no instructions", &ProgramSpec{Name: "empty", Type: XDP}, `program "empty": no instructions`},
		{"no type", &ProgramSpec{Name: "untyped", Instructions: asm.Instructions{asm.Return()}}, `program "untyped": program type is unspecified`},
		{
			"foreign byte order",
			&ProgramSpec{Name: "foreign", Type: XDP, Instructions: asm.Instructions{asm.Return()}, ByteOrder: foreignEndian()},
			`program "foreign": instructions are .*, the kernel needs .*`,
		},
		{
			"unknown map",
			&ProgramSpec{Name: "xdp_count", Type: XDP, Instructions: asm.Instructions{
				asm.Mov.Imm(asm.R0, 0),
				asm.LoadMapPtr(asm.R1, 0).WithReference("stats"),
				asm.Return(),
			}},
			`program "xdp_count": instruction 1: reference to unknown map "stats"`,
		},
		{
			"unknown function",
			&ProgramSpec{Name: "caller", Type: XDP, Instructions: asm.Instructions{
				asm.Mov.Imm(asm.R0, 0),
				asm.LoadImm(asm.R1, 0, asm.DWord),
				asm.Call.Label("helper"),
				asm.Return(),
			}},
			`program "caller": instruction 3: call to unknown function "helper"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewProgram(tc.spec)
			qt.Check(t, qt.ErrorMatches(err, tc.want))
		})
	}

	_, err := NewProgram(nil)
	qt.Check(t, qt.IsNotNil(err))
}

func TestProgramSubprograms(t *testing.T) {
	testutils.RequireRoot(t)
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R1, 10).WithSymbol("main"),
		asm.Call.Label("add1"),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.Call.Label("add2"),
		asm.Return(),
		asm.Add.Imm(asm.R1, 1).WithSymbol("add1"),
		asm.Call.Label("add2"),
		asm.Return(),
		asm.Mov.Reg(asm.R0, asm.R1).WithSymbol("add2"),
		asm.Add.Imm(asm.R0, 2),
		asm.Return(),
	}
	orig := slices.Clone(insns)
	prog := mustNewProgram(t, &ProgramSpec{Name: "main", Type: SocketFilter, Instructions: insns, License: "MIT"}, ProgramOptions{})
	ret, _, err := prog.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(15)))
	// Loading resolved the calls in a copy.
	qt.Check(t, qt.DeepEquals(insns, orig))
}

func TestProgramFromFDAndID(t *testing.T) {
	testutils.RequireRoot(t)
	prog := mustNewProgram(t, returnProgram("by_id", 7), ProgramOptions{})

	info := sys.ProgInfo{}
	qt.Assert(t, qt.IsNil(sys.ObjInfo(prog.fd, &info)))

	byID, err := NewProgramFromID(ProgramID(info.Id))
	qt.Assert(t, qt.IsNil(err))
	defer byID.Close()
	qt.Check(t, qt.Equals(byID.Type(), SocketFilter))
	qt.Check(t, qt.Equals(byID.name, "by_id"))

	dup, err := prog.fd.Dup()
	qt.Assert(t, qt.IsNil(err))
	byFD, err := NewProgramFromFD(dup.Disown())
	qt.Assert(t, qt.IsNil(err))
	defer byFD.Close()
	ret, _, err := byFD.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(7)))

	_, err = NewProgramFromFD(-1)
	qt.Check(t, qt.IsNotNil(err))

	clone, err := prog.Clone()
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Not(qt.Equals(clone.FD(), prog.FD())))
	qt.Assert(t, qt.IsNil(clone.Close()))
	ret, _, err = prog.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(7)))
	var nilProg *Program
	c, err := nilProg.Clone()
	qt.Check(t, qt.IsNil(c))
	qt.Check(t, qt.IsNil(err))

	// The IDs of loaded programs include ours.
	found := false
	for id := ProgramID(0); ; {
		id, err = ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		qt.Assert(t, qt.IsNil(err))
		if id == ProgramID(info.Id) {
			found = true
		}
	}
	qt.Check(t, qt.IsTrue(found))

	_, err = NewProgramFromID(ProgramID(^uint32(0)))
	qt.Check(t, qt.ErrorIs(err, os.ErrNotExist))
}

func TestProgramPin(t *testing.T) {
	testutils.RequireRoot(t)
	prog := mustNewProgram(t, returnProgram("pinned", 1), ProgramOptions{})
	dir := testutils.TempBPFFS(t)

	path := filepath.Join(dir, "prog")
	qt.Assert(t, qt.IsNil(prog.Pin(path)))
	qt.Check(t, qt.IsTrue(prog.IsPinned()))
	qt.Check(t, qt.IsNil(prog.Pin(path)))
	_, err := os.Stat(path)
	qt.Check(t, qt.IsNil(err))

	moved := filepath.Join(dir, "moved")
	qt.Assert(t, qt.IsNil(prog.Pin(moved)))
	_, err = os.Stat(path)
	qt.Check(t, qt.ErrorIs(err, os.ErrNotExist))

	other := mustNewProgram(t, returnProgram("other", 2), ProgramOptions{})
	qt.Assert(t, qt.IsNil(other.Pin(path)))
	qt.Check(t, qt.ErrorIs(prog.Pin(path), os.ErrExist))

	qt.Assert(t, qt.IsNil(prog.Unpin()))
	qt.Check(t, qt.IsFalse(prog.IsPinned()))
	qt.Check(t, qt.IsNil(prog.Unpin()))
	_, err = os.Stat(moved)
	qt.Check(t, qt.ErrorIs(err, os.ErrNotExist))

	loaded, err := LoadPinnedProgram(path, nil)
	qt.Assert(t, qt.IsNil(err))
	defer loaded.Close()
	qt.Check(t, qt.IsTrue(loaded.IsPinned()))
	qt.Check(t, qt.Equals(loaded.name, "other"))
	ret, _, err := loaded.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(2)))

	_, err = LoadPinnedProgram(filepath.Join(dir, "missing"), nil)
	qt.Check(t, qt.ErrorIs(err, os.ErrNotExist))

	m, err := NewMap(&MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	defer m.Close()
	qt.Assert(t, qt.IsNil(m.Pin(filepath.Join(dir, "map"))))
	_, err = LoadPinnedProgram(filepath.Join(dir, "map"), nil)
	qt.Check(t, qt.ErrorMatches(err, `load pinned program .*/map: fd \d+ refers to a bpf-map, not a bpf-prog`))

	err = prog.Pin(filepath.Join(t.TempDir(), "prog"))
	qt.Check(t, qt.ErrorMatches(err, `pin program "pinned": pin path .*: .* is not on a BPF file system \(bpffs\)`))
	qt.Check(t, qt.ErrorMatches(prog.Pin(""), `pin program "pinned": empty pin path`))
}

// TestProgramTypeProbes checks the probe table against the running kernel:
// every type it introduced by now must probe as present.
func TestProgramTypeProbes(t *testing.T) {
	testutils.RequireRoot(t)
	have, err := internal.KernelVersion()
	qt.Assert(t, qt.IsNil(err))
	for typ, p := range programTypeProbes {
		t.Run(typ.String(), func(t *testing.T) {
			v, err := internal.NewVersion(p.version)
			qt.Assert(t, qt.IsNil(err))
			err = haveProgramType(typ)
			if have.Less(v) {
				qt.Check(t, qt.ErrorIs(err, ErrNotSupported))
				qt.Check(t, qt.ErrorMatches(err, regexp.QuoteMeta(fmt.Sprintf("%s not supported (requires >= v%s)", typeprobe.ProgTypeName(sys.ProgType(typ)), p.version))))
				return
			}
			if typ == LircMode2 && errors.Is(err, ErrNotSupported) {
				t.Skip("kernel built without CONFIG_BPF_LIRC_MODE2:", err)
			}
			qt.Check(t, qt.IsNil(err))
			if p.attach != AttachNone {
				qt.Check(t, qt.IsNil(haveAttachType(typ, p.attach)))
			}
		})
	}
	qt.Check(t, qt.IsNil(haveProgramType(ProgramType(1000))))
	qt.Check(t, qt.IsNil(haveObjName()))
	qt.Check(t, qt.IsNil(objNameAllowsDot()))

	err = haveAttachType(CGroupSockAddr, AttachType(1000))
	qt.Check(t, qt.ErrorIs(err, ErrNotSupported))
	qt.Check(t, qt.ErrorMatches(err, `attach type AttachType\(1000\) for program type CGroupSockAddr not supported`))
}

func TestObjName(t *testing.T) {
	testutils.RequireRoot(t)
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"xdp_count", "xdp_count"},
		{"a.b-c", "a.bc"},
		{"a_very_long_program_name", "a_very_long_pro"},
	} {
		name, err := objName(tc.in)
		qt.Assert(t, qt.IsNil(err))
		qt.Check(t, qt.Equals(name.String(), tc.want))
	}
}

// TestNewProgramFaults fails every bpf(2) call NewProgram makes, one after
// the other, and checks that each failure is reported and closes every
// file descriptor.
func TestNewProgramFaults(t *testing.T) {
	testutils.RequireRoot(t)
	for _, spec := range []*ProgramSpec{returnProgram("faults", 1), btfProgram()} {
		t.Run(spec.Name, func(t *testing.T) {
			// Run the probes now: they are memoized and would otherwise
			// count as calls of the first load only.
			_ = mustNewProgram(t, spec, ProgramOptions{})

			// With a log level, the program is loaded once: every failure
			// shows.
			walkFaults(t, func() (*Program, error) {
				return NewProgramWithOptions(spec, ProgramOptions{LogLevel: LogLevelBranch})
			}, true)
			// Without one, a failed load is repeated with a log, which may
			// succeed.
			walkFaults(t, func() (*Program, error) { return NewProgram(spec) }, false)
		})
	}
}

// walkFaults makes the 1st, 2nd, ... bpf(2) call of load fail with ENOMEM
// until load makes no more calls. Each failure must close every file
// descriptor. When mustFail is set, a failed BPF_PROG_LOAD must be
// reported; other calls (BTF loads) may be retried by the code under test.
func walkFaults(t *testing.T, load func() (*Program, error), mustFail bool) {
	t.Helper()
	for n := 1; ; n++ {
		var failed sys.Cmd
		hit := false
		done := testutils.CheckNoOpenFDs(t)
		restore := sys.InjectFaults(func(cmd sys.Cmd, i int) error {
			if i == n {
				hit, failed = true, cmd
				return unix.ENOMEM
			}
			return nil
		})
		prog, err := load()
		restore()
		if err == nil {
			prog.Close()
		}
		done()
		if !hit {
			qt.Assert(t, qt.IsNil(err))
			t.Logf("failed each of %d bpf(2) calls", n-1)
			return
		}
		if err == nil && !(mustFail && failed == sys.BPF_PROG_LOAD) {
			continue
		}
		qt.Assert(t, qt.ErrorIs(err, unix.ENOMEM), qt.Commentf("call %d (%v)", n, failed))
		qt.Check(t, qt.IsTrue(strings.HasPrefix(err.Error(), `program "`)), qt.Commentf("%v", err))
	}
}

// btfProgram returns a socket filter with a subprogram, func info and
// line info (comments); it returns 2.
func btfProgram() *ProgramSpec {
	intType := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	fn := func(name string) *btf.Func {
		return &btf.Func{Name: name, Type: &btf.FuncProto{Return: intType}, Linkage: btf.StaticFunc}
	}
	insns := asm.Instructions{
		btf.WithFuncMetadata(asm.Mov.Imm(asm.R0, 1).WithSymbol("with_btf"), fn("with_btf")).WithSource(asm.Comment("r0 = 1")),
		asm.Call.Label("sub"),
		asm.Return(),
		btf.WithFuncMetadata(asm.Mov.Imm(asm.R0, 2).WithSymbol("sub"), fn("sub")).WithSource(asm.Comment("return 2")),
		asm.Return(),
	}
	return &ProgramSpec{Name: "with_btf", Type: SocketFilter, License: "MIT", Instructions: insns}
}

func TestProgramBindMap(t *testing.T) {
	testutils.RequireRoot(t)
	prog := mustNewProgram(t, returnProgram("bind", 0), ProgramOptions{})
	m, err := NewMap(&MapSpec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	defer m.Close()

	err = prog.BindMap(m)
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	mi, err := m.Info()
	qt.Assert(t, qt.IsNil(err))
	id, _ := mi.ID()

	info, err := prog.Info()
	qt.Assert(t, qt.IsNil(err))
	ids, ok := info.MapIDs()
	qt.Check(t, qt.IsTrue(ok))
	qt.Check(t, qt.DeepEquals(ids, []MapID{id}))

	qt.Check(t, qt.IsNotNil(prog.BindMap(nil)))
}

func TestProgramHandle(t *testing.T) {
	testutils.RequireRoot(t)
	plain := mustNewProgram(t, returnProgram("no_btf", 0), ProgramOptions{})
	_, err := plain.Handle()
	qt.Check(t, qt.ErrorIs(err, ErrNotSupported))

	prog := mustNewProgram(t, btfProgram(), ProgramOptions{})
	h, err := prog.Handle()
	qt.Assert(t, qt.IsNil(err))
	spec, err := h.Spec(nil)
	qt.Assert(t, qt.IsNil(err))
	var fn *btf.Func
	qt.Check(t, qt.IsNil(spec.TypeByName("sub", &fn)))

	// A handle given to SetHandle is what Handle returns (a copy).
	qt.Assert(t, qt.IsNil(plain.SetHandle(h)))
	qt.Assert(t, qt.IsNil(h.Close()))
	h2, err := plain.Handle()
	qt.Assert(t, qt.IsNil(err))
	info, err := h2.Info()
	qt.Assert(t, qt.IsNil(err))
	pinfo, err := prog.Info()
	qt.Assert(t, qt.IsNil(err))
	want, _ := pinfo.BTFID()
	qt.Check(t, qt.Equals(info.ID, want))
	qt.Check(t, qt.IsNil(h2.Close()))
	qt.Check(t, qt.IsNotNil(plain.SetHandle(nil)))
}

func TestProgramFuncInfo(t *testing.T) {
	testutils.RequireRoot(t)
	spec := btfProgram()
	insns := spec.Instructions
	prog := mustNewProgram(t, spec, ProgramOptions{})
	ret, _, err := prog.Test(packet)
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(ret, uint32(2)))

	info, err := prog.Info()
	qt.Assert(t, qt.IsNil(err))
	_, ok := info.BTFID()
	qt.Check(t, qt.IsTrue(ok))
	funcs, err := info.FuncInfos()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(funcs, 2))
	qt.Check(t, qt.Equals(funcs[0].Func.Name, "with_btf"))
	qt.Check(t, qt.Equals(funcs[1].Func.Name, "sub"))
	qt.Check(t, qt.Equals(funcs[1].Offset, 3))
	lines, err := info.LineInfos()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.HasLen(lines, 2))
	qt.Check(t, qt.Equals(lines[1].Line.Line(), "return 2"))

	xlated, err := info.Instructions()
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.Equals(btf.FuncMetadata(&xlated[3]).Name, "sub"))
	qt.Check(t, qt.Equals(xlated[3].Source().String(), "return 2"))

	plain := mustNewProgram(t, returnProgram("no_btf", 0), ProgramOptions{})
	info, err = plain.Info()
	qt.Assert(t, qt.IsNil(err))
	_, err = info.FuncInfos()
	qt.Check(t, qt.ErrorIs(err, ErrNotSupported))
	_, err = info.LineInfos()
	qt.Check(t, qt.ErrorIs(err, ErrNotSupported))

	// The spec's instructions were not touched by linking.
	qt.Check(t, qt.Equals(insns[1].Constant, int64(-1)))
}

func foreignEndian() binary.ByteOrder {
	if internal.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// TestProgramModuleAttachTarget loads fentry programs on a function of a
// kernel module (veth, which the VM tests load as a module), found through
// kallsyms and named explicitly as "module:function": the attach target
// is the module's BTF.
func TestProgramModuleAttachTarget(t *testing.T) {
	testutils.RequireRoot(t)
	const fn = "veth_xmit"
	module, err := kallsyms.Module(fn)
	if err != nil || module == "" {
		t.Skipf("no kernel module defines %s (veth built in or not loaded): %v", fn, err)
	}
	if _, err := os.Stat("/sys/kernel/btf/" + module); err != nil {
		t.Skipf("module %s has no BTF (CONFIG_DEBUG_INFO_BTF_MODULES): %v", module, err)
	}
	h, err := btf.FindHandle(func(info *btf.HandleInfo) bool { return info.IsModule() && info.Name == module })
	qt.Assert(t, qt.IsNil(err))
	info, err := h.Info()
	h.Close()
	qt.Assert(t, qt.IsNil(err))

	for _, attachTo := range []string{fn, module + ":" + fn} {
		t.Run(attachTo, func(t *testing.T) {
			prog, err := NewProgram(&ProgramSpec{
				Name:         "on_veth_xmit",
				Type:         Tracing,
				AttachType:   AttachTraceFEntry,
				AttachTo:     attachTo,
				License:      "GPL",
				Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
			})
			testutils.SkipIfForbidden(t, err, "tracing programs")
			qt.Assert(t, qt.IsNil(err))
			defer prog.Close()
			var pi sys.ProgInfo
			qt.Assert(t, qt.IsNil(sys.ObjInfo(prog.fd, &pi)))
			qt.Check(t, qt.Equals(btf.ID(pi.AttachBtfObjId), info.ID))
		})
	}
}
