package link

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/btf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// The USDT tests attach testdata/usdt.c's programs to a program built from
// testdata/usdt_prog.c with gcc and <sys/sdt.h>, to python3.11 and to
// libstdc++ (Debian's, which have probes), and check what the programs
// read against what the probed code passed.

// wantArgs are the arguments usdt_prog passes to bpfkit:args, as
// bpf_usdt_arg returns them (sign- or zero-extended to 64 bits).
var wantArgs = []int64{
	-7,             // -1@$-7
	40000,          // 2@$-25536: the assembler prints the constant signed
	-42,            // -8@%rdx
	-100000,        // -4@%ecx
	0xbeef,         // 2@%r8w
	-3,             // -1@%r9b
	-9876543210,    // -8@(%rdi)
	0xfedcba98,     // 4@8(%rdi)
	-2,             // -2@12(%rdi)
	0xfe,           // 1@14(%rdi)
	-98,            // -4@20(%rdi)
	-1234567890123, // -8@$-1234567890123
}

// buildUSDTProg compiles testdata/usdt_prog.c, or skips without a C
// compiler or <sys/sdt.h> (.ci/deps.sh installs gcc and systemtap-sdt-dev).
func buildUSDTProg(t testing.TB) string {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("usdt_prog's argument layout is checked for x86-64 only")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is missing (.ci/deps.sh installs it)")
	}
	if !hasSDTHeader(gcc) {
		t.Skip("<sys/sdt.h> is missing: install systemtap-sdt-dev (.ci/deps.sh does)")
	}
	out := filepath.Join(t.TempDir(), "usdt_prog")
	cmd := exec.Command(gcc, "-O2", "-o", out, filepath.Join("testdata", "usdt_prog.c"))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build usdt_prog: %v\n%s", err, msg)
	}
	return out
}

func hasSDTHeader(gcc string) bool {
	cmd := exec.Command(gcc, "-E", "-x", "c", "-")
	cmd.Stdin = strings.NewReader("#include <sys/sdt.h>\n")
	return cmd.Run() == nil
}

// usdtProc is a running usdt_prog, driven through its stdin and stdout.
type usdtProc struct {
	t   testing.TB
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	pid int
}

func startUSDTProg(t testing.TB, path string) *usdtProc {
	t.Helper()
	cmd := exec.Command(path)
	in, err := cmd.StdinPipe()
	qt.Assert(t, qt.IsNil(err))
	out, err := cmd.StdoutPipe()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.IsNil(cmd.Start()))
	p := &usdtProc{t: t, cmd: cmd, in: in, out: bufio.NewReader(out)}
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	line := p.read()
	pid, ok := strings.CutPrefix(line, "ready ")
	qt.Assert(t, qt.IsTrue(ok), qt.Commentf("usdt_prog said %q", line))
	p.pid, err = strconv.Atoi(pid)
	qt.Assert(t, qt.IsNil(err))
	return p
}

func (p *usdtProc) read() string {
	p.t.Helper()
	line, err := p.out.ReadString('\n')
	qt.Assert(p.t, qt.IsNil(err))
	return strings.TrimSuffix(line, "\n")
}

// do sends a command and returns the answer.
func (p *usdtProc) do(cmd string) string {
	p.t.Helper()
	_, err := io.WriteString(p.in, cmd+"\n")
	qt.Assert(p.t, qt.IsNil(err))
	return p.read()
}

func (p *usdtProc) fire() {
	p.t.Helper()
	qt.Assert(p.t, qt.Equals(p.do("fire"), "fired"))
}

// semaphores returns the values of bpfkit_args_semaphore and
// bpfkit_multi_semaphore in the process.
func (p *usdtProc) semaphores() (args, multi int) {
	p.t.Helper()
	line := p.do("sema")
	var indexed int
	_, err := fmt.Sscanf(line, "args=%d multi=%d indexed=%d", &args, &multi, &indexed)
	qt.Assert(p.t, qt.IsNil(err), qt.Commentf("usdt_prog said %q", line))
	return args, multi
}

// usdtObject loads testdata/usdt.c.
func usdtObject(t testing.TB) *ebpf.Collection {
	t.Helper()
	o := loadObject(t, "usdt")
	coll, err := ebpf.NewCollection(o.spec)
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { coll.Close() })
	return coll
}

func getVar[T any](t testing.TB, coll *ebpf.Collection, name string) T {
	t.Helper()
	var v T
	vv, ok := coll.Variables[name]
	qt.Assert(t, qt.IsTrue(ok), qt.Commentf("no variable %s", name))
	qt.Assert(t, qt.IsNil(vv.Get(&v)))
	return v
}

func attachUSDTOrSkip(t testing.TB, ex *Executable, provider, name string, prog *ebpf.Program, opts *USDTOptions) Link {
	t.Helper()
	l, err := ex.USDT(provider, name, prog, opts)
	testutils.SkipIfNotSupported(t, err)
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { l.Close() })
	return l
}

func TestUSDTArgs(t *testing.T) {
	prog := buildUSDTProg(t)
	coll := usdtObject(t)
	p := startUSDTProg(t, prog)

	args, _ := p.semaphores()
	qt.Assert(t, qt.Equals(args, 0))
	p.fire()
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "hits"), 0), qt.Commentf("the probe fired without a tracer"))

	ex, err := OpenExecutable(prog)
	qt.Assert(t, qt.IsNil(err))
	// gcc wrote every kind of location but the indexed one (tested below).
	probes, err := ex.USDTProbes()
	qt.Assert(t, qt.IsNil(err))
	kinds := map[USDTArgKind]bool{}
	for _, p := range probes {
		if p.Name == "args" {
			args, err := p.Arguments()
			qt.Assert(t, qt.IsNil(err))
			for _, a := range args {
				kinds[a.Kind] = true
			}
		}
	}
	qt.Assert(t, qt.DeepEquals(kinds, map[USDTArgKind]bool{USDTArgConst: true, USDTArgRegister: true, USDTArgMemory: true}))

	l := attachUSDTOrSkip(t, ex, "bpfkit", "args", coll.Programs["usdt_args"], &USDTOptions{Cookie: 0xc0ffee})

	args, _ = p.semaphores()
	qt.Assert(t, qt.Equals(args, 1), qt.Commentf("semaphore while attached"))
	p.fire()
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "hits"), 1))
	qt.Assert(t, qt.Equals(getVar[int32](t, coll, "arg_cnt"), int32(len(wantArgs))))
	qt.Assert(t, qt.DeepEquals(getVar[[12]int64](t, coll, "args"), [12]int64(wantArgs)))
	qt.Assert(t, qt.DeepEquals(getVar[[12]int32](t, coll, "arg_errs"), [12]int32{}))
	qt.Assert(t, qt.Equals(getVar[int32](t, coll, "past_end_err"), -2), qt.Commentf("argument past the end: -ENOENT"))
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "cookie"), 0xc0ffee))
	qt.Assert(t, qt.Equals(getVar[uint32](t, coll, "last_pid"), uint32(p.pid)))

	qt.Assert(t, qt.IsNil(l.Close()))
	args, _ = p.semaphores()
	qt.Assert(t, qt.Equals(args, 0), qt.Commentf("semaphore after Close"))
	p.fire()
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "hits"), 1), qt.Commentf("the probe fired after Close"))
}

// TestUSDTIndexed reads an argument at base + index * scale, which
// testdata/usdt.h reads as libbpf 1.7's usdt.bpf.h means to.
func TestUSDTIndexed(t *testing.T) {
	prog := buildUSDTProg(t)
	coll := usdtObject(t)
	p := startUSDTProg(t, prog)
	ex, err := OpenExecutable(prog)
	qt.Assert(t, qt.IsNil(err))
	probes, err := ex.USDTProbes()
	qt.Assert(t, qt.IsNil(err))
	for _, p := range probes {
		if p.Name == "indexed" {
			args, err := p.Arguments()
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(args[0].Kind, USDTArgIndexed))
		}
	}

	attachUSDTOrSkip(t, ex, "bpfkit", "indexed", coll.Programs["usdt_args"], nil)
	p.fire()
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "hits"), 1))
	qt.Assert(t, qt.Equals(getVar[int32](t, coll, "arg_cnt"), 1))
	got := getVar[[12]int64](t, coll, "args")
	qt.Assert(t, qt.Equals(got[0], -99))
}

func TestUSDTSites(t *testing.T) {
	prog := buildUSDTProg(t)
	coll := usdtObject(t)
	p := startUSDTProg(t, prog)
	ex, err := OpenExecutable(prog)
	qt.Assert(t, qt.IsNil(err))

	// bpfkit:multi has two sites with different arguments: two uprobes,
	// each raising the semaphore, and two specs.
	l := attachUSDTOrSkip(t, ex, "bpfkit", "multi", coll.Programs["usdt_args"], nil)
	ul := l.(*usdtLink)
	qt.Assert(t, qt.HasLen(ul.uprobes, 2))
	qt.Assert(t, qt.HasLen(ul.ids, 2))
	_, multi := p.semaphores()
	qt.Assert(t, qt.Equals(multi, 2))

	// A second attachment of the same maps gets other spec IDs.
	l2 := attachUSDTOrSkip(t, ex, "bpfkit", "args", coll.Programs["usdt_args"], nil)
	qt.Assert(t, qt.HasLen(l2.(*usdtLink).ids, 1))
	qt.Assert(t, qt.Not(qt.SliceContains(ul.ids, l2.(*usdtLink).ids[0])))

	p.fire()
	// args fires first, then (7, 8), then (41, 42).
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "hits"), 3))
	qt.Assert(t, qt.Equals(getVar[int32](t, coll, "arg_cnt"), 2))
	got := getVar[[12]int64](t, coll, "args")
	qt.Assert(t, qt.DeepEquals(got[:2], []int64{41, 42}))

	qt.Assert(t, qt.IsNil(l.Close()))
	qt.Assert(t, qt.IsNil(l2.Close()))
	args, multi := p.semaphores()
	qt.Assert(t, qt.Equals(args, 0))
	qt.Assert(t, qt.Equals(multi, 0))
}

func TestUSDTPerPID(t *testing.T) {
	prog := buildUSDTProg(t)
	coll := usdtObject(t)
	p1 := startUSDTProg(t, prog)
	p2 := startUSDTProg(t, prog)
	ex, err := OpenExecutable(prog)
	qt.Assert(t, qt.IsNil(err))

	attachUSDTOrSkip(t, ex, "bpfkit", "args", coll.Programs["usdt_args"], &USDTOptions{PID: p2.pid})
	a1, _ := p1.semaphores()
	a2, _ := p2.semaphores()
	qt.Assert(t, qt.Equals(a1, 0), qt.Commentf("semaphore of the other process"))
	qt.Assert(t, qt.Equals(a2, 1))

	p1.fire()
	p2.fire()
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "hits"), 1))
	qt.Assert(t, qt.Equals(getVar[uint32](t, coll, "last_pid"), uint32(p2.pid)))
}

// TestUSDTProcSemaphore raises semaphores through /proc/PID/mem, as on
// kernels before 4.20.
func TestUSDTProcSemaphore(t *testing.T) {
	prog := buildUSDTProg(t)
	coll := usdtObject(t)
	p := startUSDTProg(t, prog)
	ex, err := OpenExecutable(prog)
	qt.Assert(t, qt.IsNil(err))

	usdtForceProcSemaphores = true
	t.Cleanup(func() { usdtForceProcSemaphores = false })

	_, err = ex.USDT("bpfkit", "args", coll.Programs["usdt_args"], nil)
	qt.Assert(t, qt.ErrorMatches(err, ".*without a PID there is no process to set it in.*"))

	l := attachUSDTOrSkip(t, ex, "bpfkit", "multi", coll.Programs["usdt_args"], &USDTOptions{PID: p.pid})
	_, multi := p.semaphores()
	qt.Assert(t, qt.Equals(multi, 1), qt.Commentf("one increment per semaphore, not per site"))
	p.fire()
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "hits"), 2))
	qt.Assert(t, qt.IsNil(l.Close()))
	_, multi = p.semaphores()
	qt.Assert(t, qt.Equals(multi, 0))
}

func TestUSDTNotFound(t *testing.T) {
	prog := buildUSDTProg(t)
	ex, err := OpenExecutable(prog)
	qt.Assert(t, qt.IsNil(err))
	_, err = ex.USDT("bpfkit", "nosuch", nil, nil)
	qt.Assert(t, qt.ErrorMatches(err, ".*program is nil"))

	coll := usdtObject(t)
	_, err = ex.USDT("bpfkit", "nosuch", coll.Programs["usdt_args"], nil)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.ErrorMatches(err, `usdt .*usdt_prog:bpfkit:nosuch: no USDT probe bpfkit:nosuch; the file has bpfkit:args, bpfkit:indexed, bpfkit:multi: file does not exist`))

	self, err := os.Executable()
	qt.Assert(t, qt.IsNil(err))
	ex, err = OpenExecutable(self)
	qt.Assert(t, qt.IsNil(err))
	_, err = ex.USDT("bpfkit", "args", coll.Programs["usdt_args"], nil)
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.ErrorMatches(err, `.*the file has no USDT probes.*`))
}

// TestUSDTWithoutCookies takes the path of kernels before 5.15: the
// program, told so by LINUX_HAS_BPF_COOKIE, finds its spec by looking the
// probe's address up in __bpf_usdt_ip_to_spec_id, which the attachment
// fills with each site's address in the process.
func TestUSDTWithoutCookies(t *testing.T) {
	prog := buildUSDTProg(t)
	o := loadObject(t, "usdt")
	// The object's only .kconfig extern is LINUX_HAS_BPF_COOKIE: each read
	// of it, a 64-bit load of its address (which the loader relocates)
	// and a byte load, becomes "0".
	rewritten := 0
	for _, p := range o.spec.Programs {
		insns := p.Instructions
		for i := 0; i+1 < len(insns); i++ {
			ins, next := insns[i], insns[i+1]
			if !ins.OpCode.IsDWordLoad() || ins.Src != asm.PseudoMapValue || ins.Reference() != "" ||
				next.OpCode != asm.LoadMemOp(asm.Byte) || next.Src != ins.Dst || next.Offset != 0 {
				continue
			}
			// Keep what starts a function; drop the extern.
			zero := asm.LoadImm(ins.Dst, 0, asm.DWord).WithSymbol(ins.Symbol())
			insns[i] = btf.WithFuncMetadata(zero, btf.FuncMetadata(&ins))
			insns[i+1] = asm.Mov.Imm(next.Dst, 0)
			rewritten++
		}
	}
	// usdt_args calls bpf_usdt_arg_cnt, bpf_usdt_arg and bpf_usdt_cookie,
	// the other two programs bpf_usdt_arg.
	qt.Assert(t, qt.Equals(rewritten, 5))
	coll, err := ebpf.NewCollection(o.spec)
	qt.Assert(t, qt.IsNil(err))
	defer coll.Close()

	usdtForceNoCookies = true
	t.Cleanup(func() { usdtForceNoCookies = false })
	p := startUSDTProg(t, prog)
	ex, err := OpenExecutable(prog)
	qt.Assert(t, qt.IsNil(err))

	// usdt_prog is position independent: without a PID its sites have no
	// address.
	_, err = ex.USDT("bpfkit", "args", coll.Programs["usdt_args"], nil)
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))

	l := attachUSDTOrSkip(t, ex, "bpfkit", "multi", coll.Programs["usdt_args"], &USDTOptions{PID: p.pid, Cookie: 5})
	ips := l.(*usdtLink).ips
	qt.Assert(t, qt.HasLen(ips, 2))
	var id uint32
	for _, ip := range ips {
		qt.Assert(t, qt.IsNil(coll.Maps["__bpf_usdt_ip_to_spec_id"].Lookup(ip, &id)))
	}

	p.fire()
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "hits"), 2))
	got := getVar[[12]int64](t, coll, "args")
	qt.Assert(t, qt.DeepEquals(got[:2], []int64{41, 42}))
	qt.Assert(t, qt.Equals(getVar[uint64](t, coll, "cookie"), 5))

	qt.Assert(t, qt.IsNil(l.Close()))
	for _, ip := range ips {
		qt.Assert(t, qt.ErrorIs(coll.Maps["__bpf_usdt_ip_to_spec_id"].Lookup(ip, &id), ebpf.ErrKeyNotExist))
	}
}

// TestUSDTErrors walks the refusals; every one leaves nothing open (the
// package's TestMain checks for leaked descriptors) and no spec ID taken.
func TestUSDTErrors(t *testing.T) {
	prog := buildUSDTProg(t)
	coll := usdtObject(t)
	args := coll.Programs["usdt_args"]
	ex, err := OpenExecutable(prog)
	qt.Assert(t, qt.IsNil(err))

	// Not an executable: a BPF object.
	obj, err := OpenExecutable(filepath.Join("..", "testdata", "usdt-el.elf"))
	qt.Assert(t, qt.IsNil(err))
	_, err = obj.USDT("bpfkit", "args", args, nil)
	qt.Assert(t, qt.ErrorMatches(err, `usdt .*: ELF type ET_REL: only executables and shared libraries .*`))

	// Maps: one without the other, or of another layout.
	_, err = ex.USDT("bpfkit", "args", args, &USDTOptions{Specs: coll.Maps["__bpf_usdt_specs"]})
	qt.Assert(t, qt.ErrorMatches(err, `.*give both Specs and IPToSpecID, or neither`))
	_, err = ex.USDT("bpfkit", "args", args, &USDTOptions{Specs: coll.Maps["__bpf_usdt_ip_to_spec_id"], IPToSpecID: coll.Maps["__bpf_usdt_specs"]})
	qt.Assert(t, qt.ErrorMatches(err, `.*map __bpf_usdt_specs: want an array of 208-byte values with 4-byte keys, have Hash .*`))

	// A spec map with room for one spec, and a probe with two layouts.
	small, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 208, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	defer small.Close()
	opts := &USDTOptions{Specs: small, IPToSpecID: coll.Maps["__bpf_usdt_ip_to_spec_id"]}
	_, err = ex.USDT("bpfkit", "multi", args, opts)
	qt.Assert(t, qt.ErrorMatches(err, `.*all 1 entries of __bpf_usdt_specs are in use: build the program with a larger BPF_USDT_MAX_SPEC_CNT`))
	qt.Assert(t, qt.HasLen(usdtPools.byMap, 0), qt.Commentf("spec ID pools left after a failed attachment"))
	// The one ID came back: a probe with one layout fits.
	l := attachUSDTOrSkip(t, ex, "bpfkit", "args", args, opts)
	qt.Assert(t, qt.DeepEquals(l.(*usdtLink).ids, []uint32{0}))
	qt.Assert(t, qt.IsNil(l.Close()))

	// A process that doesn't map the file has no semaphore to raise.
	usdtForceProcSemaphores = true
	t.Cleanup(func() { usdtForceProcSemaphores = false })
	_, err = ex.USDT("bpfkit", "args", args, &USDTOptions{PID: os.Getpid()})
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	qt.Assert(t, qt.ErrorMatches(err, `.*semaphore of bpfkit:args@0x[0-9a-f]+: process \d+ has not mapped .*`))
	qt.Assert(t, qt.HasLen(usdtPools.byMap, 0))
	usdtForceProcSemaphores = false

	// The Link methods a USDT attachment can't offer.
	l = attachUSDTOrSkip(t, ex, "bpfkit", "args", args, nil)
	qt.Assert(t, qt.ErrorIs(l.Pin(filepath.Join(t.TempDir(), "x")), ErrNotSupported))
	qt.Assert(t, qt.ErrorIs(l.Update(args), ErrNotSupported))
	_, err = l.Info()
	qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))
	qt.Assert(t, qt.IsNil(l.Close()))
	qt.Assert(t, qt.IsNil(l.Close()), qt.Commentf("second Close"))
}
