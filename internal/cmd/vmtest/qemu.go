package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// vmConfig says how to start qemu.
type vmConfig struct {
	Qemu    string
	SMP     int
	MemMiB  int
	Append  string        // kernel command line
	Timeout time.Duration // for the whole VM
	LogDir  string        // console-*.log and results-*.log go here
	Verbose bool          // echo every test output line as it arrives

	// BinaryLimit stops the VM when one test binary has been running
	// this long: its own -test.timeout should have ended it before, but
	// can't in a guest whose kernel hangs. 0 for no limit; vmtest uses
	// -test-timeout plus binaryGrace.
	BinaryLimit time.Duration
	// LockupLimit stops the VM when the guest kernel reports a CPU stuck
	// in a soft lockup this long. 0 to wait for the other limits.
	LockupLimit time.Duration
}

// errNoConsole means the VM printed nothing on its console in time: on
// some hosts /dev/kvm opens fine but a KVM guest hangs before its first
// instruction, so a silent start under KVM means "use TCG".
var errNoConsole = errors.New("no console output")

// errGuestHung means the host stopped a guest whose kernel hung: a soft
// lockup past -lockup-limit or a binary past its -test.timeout. vmtest
// boots such a kernel once more for the binaries that did not finish.
var errGuestHung = errors.New("guest hung")

// kvmUsable checks that /dev/kvm opens read-write and answers
// KVM_GET_API_VERSION with the stable API version 12. It does not prove
// that a guest will run; bootVM's first-output deadline covers that.
func kvmUsable() error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	const kvmGetAPIVersion = 0xAE00
	v, err := unix.IoctlRetInt(int(f.Fd()), kvmGetAPIVersion)
	if err != nil {
		return fmt.Errorf("KVM_GET_API_VERSION: %w", err)
	}
	if v != 12 {
		return fmt.Errorf("KVM API version %d, want 12", v)
	}
	return nil
}

// qemuArgs builds the command line. The kernel console goes to the first
// serial port (ttyS0), the result stream to the second (ttyS1); both are
// files qemu opens through /dev/fd so that we read them as pipes while the
// VM runs.
func qemuArgs(cfg vmConfig, accel string, k *kernel, initrd string, consoleFD, resultFD int) []string {
	cmdline := cfg.Append
	if accel == "tcg" {
		// TCG's virtual CPUs have unsynchronised TSCs, so the kernel would
		// mark the TSC unstable and fall back to the HPET, which has no
		// vDSO: every clock read becomes an emulated MMIO access, and Go
		// programs, which read the clock constantly, run hundreds of times
		// slower (btf's vmlinux round trip: 12 s instead of over 10 min).
		cmdline += " tsc=reliable"
	}
	args := []string{
		"-nodefaults", "-no-reboot", "-display", "none",
		"-smp", fmt.Sprint(cfg.SMP), "-m", fmt.Sprint(cfg.MemMiB),
		"-kernel", k.Image, "-initrd", initrd, "-append", cmdline,
		"-chardev", fmt.Sprintf("file,id=console,path=/dev/fd/%d", consoleFD),
		"-serial", "chardev:console",
		"-chardev", fmt.Sprintf("file,id=results,path=/dev/fd/%d", resultFD),
		"-serial", "chardev:results",
	}
	if accel == "kvm" {
		return append(args, "-accel", "kvm", "-cpu", "host")
	}
	return append(args, "-accel", "tcg", "-cpu", "max")
}

// binaryGrace is how long past its -test.timeout a test binary may take
// to print its goroutines and exit before the host calls the guest hung.
const binaryGrace = time.Minute

// consoleTailLines is how much of the kernel console a failure report shows.
const consoleTailLines = 80

// vmConsole is what bootVM learned from the kernel console.
type vmConsole struct {
	Tail    []string      // its last lines
	Log     string        // the file that has all of it
	First   *kernelReport // the first report of trouble, if any
	Reports int           // how many reports of trouble
}

// bootVM runs one VM to its end and feeds its result stream to p. With
// firstOutput > 0 it gives up, returning errNoConsole, if the console stays
// silent that long. It stops a guest that hangs (cfg's BinaryLimit and
// LockupLimit) with an error that says so.
func bootVM(ctx context.Context, cfg vmConfig, accel string, k *kernel, initrd, tag string, firstOutput time.Duration, p *streamParser) (*vmConsole, error) {
	consoleR, consoleW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer consoleR.Close()
	resultR, resultW, err := os.Pipe()
	if err != nil {
		consoleW.Close()
		return nil, err
	}
	defer resultR.Close()

	out := &vmConsole{Log: filepath.Join(cfg.LogDir, "console-"+tag+".log")}
	consoleLog, err := os.Create(out.Log)
	if err != nil {
		consoleW.Close()
		resultW.Close()
		return nil, err
	}
	defer consoleLog.Close()
	resultLog, err := os.Create(filepath.Join(cfg.LogDir, "results-"+tag+".log"))
	if err != nil {
		consoleW.Close()
		resultW.Close()
		return nil, err
	}
	defer resultLog.Close()

	var stderr bytes.Buffer
	cmd := exec.Command(cfg.Qemu, qemuArgs(cfg, accel, k, initrd, 3, 4)...)
	cmd.ExtraFiles = []*os.File{consoleW, resultW}
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err = cmd.Start()
	consoleW.Close()
	resultW.Close()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.Qemu, err)
	}

	var (
		wg        sync.WaitGroup
		firstByte = make(chan struct{})
		watch     = &consoleWatch{LockupLimit: cfg.LockupLimit}
		lockedUp  = make(chan *kernelReport, 1)
		clock     binaryClock
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		first := true
		readLines(io.TeeReader(consoleR, consoleLog), func(line string) {
			if first {
				close(firstByte)
				first = false
			}
			line = strings.TrimSuffix(line, "\r")
			if r := watch.Line(line); r != nil {
				lockedUp <- r // at most once
			}
			out.Tail = append(out.Tail, line)
			if len(out.Tail) > consoleTailLines {
				out.Tail = out.Tail[len(out.Tail)-consoleTailLines:]
			}
		})
	}()
	go func() {
		defer wg.Done()
		var cur *binaryResult
		readLines(io.TeeReader(resultR, resultLog), func(line string) {
			p.Line(line)
			if p.cur != cur {
				if cur = p.cur; cur == nil {
					clock.set("", time.Time{})
				} else {
					clock.set(cur.Name, time.Now())
				}
			}
		})
	}()

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var (
		deadline = time.NewTimer(cfg.Timeout)
		silence  <-chan time.Time
		tick     <-chan time.Time
		runErr   error
	)
	defer deadline.Stop()
	if cfg.BinaryLimit > 0 {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	if firstOutput > 0 {
		t := time.NewTimer(firstOutput)
		defer t.Stop()
		silence = t.C
	}
	kill := func(err error) {
		runErr = err
		cmd.Process.Kill()
		<-exited
	}
wait:
	for {
		select {
		case err := <-exited:
			if err != nil {
				runErr = fmt.Errorf("qemu: %w: %s", err, strings.TrimSpace(stderr.String()))
			}
			break wait
		case <-firstByte:
			firstByte, silence = nil, nil
		case <-silence:
			kill(errNoConsole)
			break wait
		case <-deadline.C:
			kill(fmt.Errorf("timed out after %s (raise -timeout?)", cfg.Timeout))
			break wait
		case r := <-lockedUp:
			kill(fmt.Errorf("%w: the kernel reports a soft lockup: %s; VM stopped (-lockup-limit %s)", errGuestHung, r, cfg.LockupLimit))
			break wait
		case now := <-tick:
			if name, ran, over := clock.overdue(now, cfg.BinaryLimit); over {
				kill(fmt.Errorf("%w: %s still running %s after it began, past -test-timeout plus %s for its report; VM stopped",
					errGuestHung, name, ran.Round(time.Second), binaryGrace))
				break wait
			}
		case <-ctx.Done():
			kill(ctx.Err())
			break wait
		}
	}
	wg.Wait()
	p.Close()
	out.First, out.Reports = watch.First, watch.Reports
	if runErr == nil && watch.Panic != nil {
		runErr = fmt.Errorf("%s", watch.Panic.Line)
	}
	return out, runErr
}

// readLines calls fn for every line of r, the last one even without a
// newline, until r ends.
func readLines(r io.Reader, fn func(string)) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			fn(strings.TrimSuffix(line, "\n"))
		}
		if err != nil {
			return
		}
	}
}
