package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// parseStream feeds a whole stream to a parser whose clock advances one
// second per reading.
func parseStream(stream string) *streamParser {
	p := newStreamParser()
	var t time.Time
	p.now = func() time.Time { t = t.Add(time.Second); return t }
	for _, line := range strings.Split(stream, "\n") {
		p.Line(line)
	}
	p.Close()
	return p
}

func TestStreamParser(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream string
		want   []*binaryResult
		info   []string
		done   bool
	}{
		{
			name: "pass, skip, subtests, tty carriage returns",
			stream: "noise before anything\n" +
				"@@vmtest info release=6.1.0-56-amd64\r\n" +
				"@@vmtest begin a.test\n" +
				"=== RUN   TestA\r\n" +
				"=== RUN   TestA/sub\n" +
				"    --- PASS: TestA/sub (0.00s)\n" +
				"--- PASS: TestA (0.00s)\n" +
				"=== RUN   TestB\n" +
				"    b_test.go:9: setting up\n" +
				"    b_test.go:10: no kprobes here\n" +
				"--- SKIP: TestB (0.00s)\n" +
				"=== RUN   TestC\n" +
				"--- SKIP: TestC (0.00s)\n" +
				"=== RUN   TestD\n" +
				"=== RUN   TestD/x\n" +
				"    d_test.go:5: no fentry\n" +
				"        continued message\n" +
				"=== RUN   TestD/y\n" +
				"--- PASS: TestD (0.00s)\n" +
				"    --- SKIP: TestD/x (0.00s)\n" +
				"    --- PASS: TestD/y (0.00s)\n" +
				"PASS\n" +
				"\n@@vmtest end a.test rc=0\n" +
				"@@vmtest done\n",
			want: []*binaryResult{{
				Name: "a.test",
				Output: []string{"=== RUN   TestA", "=== RUN   TestA/sub", "    --- PASS: TestA/sub (0.00s)", "--- PASS: TestA (0.00s)",
					"=== RUN   TestB", "    b_test.go:9: setting up", "    b_test.go:10: no kprobes here", "--- SKIP: TestB (0.00s)",
					"=== RUN   TestC", "--- SKIP: TestC (0.00s)",
					"=== RUN   TestD", "=== RUN   TestD/x", "    d_test.go:5: no fentry", "        continued message", "=== RUN   TestD/y",
					"--- PASS: TestD (0.00s)", "    --- SKIP: TestD/x (0.00s)", "    --- PASS: TestD/y (0.00s)", "PASS"},
				Passed: 4, Skipped: 3, Ended: true, Duration: time.Second,
				Skips: []string{"TestB: b_test.go:10: no kprobes here", "TestC", "TestD/x: d_test.go:5: no fentry"},
			}},
			info: []string{"release=6.1.0-56-amd64"},
			done: true,
		},
		{
			name: "failure, output without a final newline",
			stream: "@@vmtest begin b.test\n" +
				"--- FAIL: TestX (0.01s)\n" +
				"FAIL\n" +
				"exit status 1 no newline\n" +
				"@@vmtest end b.test rc=1\n" +
				"@@vmtest done",
			want: []*binaryResult{{
				Name:   "b.test",
				Output: []string{"--- FAIL: TestX (0.01s)", "FAIL", "exit status 1 no newline"},
				Failed: 1, ExitCode: 1, Ended: true, Duration: time.Second, Fails: []string{"TestX"},
			}},
			done: true,
		},
		{
			name: "VM died mid-binary",
			stream: "@@vmtest begin a.test\n\n@@vmtest end a.test rc=0\n" +
				"@@vmtest begin c.test\n" +
				"--- PASS: TestC (0.00s)\n" +
				"panic: something\n",
			want: []*binaryResult{
				{Name: "a.test", Ended: true, Duration: time.Second},
				{Name: "c.test", Output: []string{"--- PASS: TestC (0.00s)", "panic: something", ""}, Passed: 1, Duration: time.Second},
			},
		},
		{
			name: "begin without end",
			stream: "@@vmtest begin a.test\n" +
				"@@vmtest begin b.test\n\n@@vmtest end b.test rc=0\n" +
				"@@vmtest end a.test rc=0\n" + // stale end: ignored
				"@@vmtest done\n",
			want: []*binaryResult{
				{Name: "a.test", Duration: time.Second},
				{Name: "b.test", Ended: true, Duration: time.Second},
			},
			done: true,
		},
		{
			name:   "unparsable exit code",
			stream: "@@vmtest begin a.test\n@@vmtest end a.test rc=x\n",
			want:   []*binaryResult{{Name: "a.test", Ended: true, ExitCode: -1, Duration: time.Second}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := parseStream(tc.stream)
			if diff := cmp.Diff(tc.want, p.Results, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(binaryResult{})); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			qt.Assert(t, qt.DeepEquals(p.Info, tc.info))
			qt.Assert(t, qt.Equals(p.Done, tc.done))
		})
	}
}

func TestFailSkips(t *testing.T) {
	p := newStreamParser()
	p.FailSkip = regexp.MustCompile("forbids")
	for _, line := range []string{
		"@@vmtest begin link.test",
		"=== RUN   TestFentry",
		"    fentry_test.go:20: kernel forbids tracing programs even to root: operation not permitted",
		"--- SKIP: TestFentry (0.00s)",
		"=== RUN   TestNetkit",
		"    netkit_test.go:9: netkit needs 6.7",
		"--- SKIP: TestNetkit (0.00s)",
		"PASS",
		"@@vmtest end link.test rc=0",
		"@@vmtest done",
	} {
		p.Line(line)
	}
	r := p.Results[0]
	qt.Assert(t, qt.IsFalse(r.OK()))
	qt.Assert(t, qt.Equals(r.status(), "FAIL (skip not allowed)"))
	qt.Assert(t, qt.DeepEquals([]int{r.Passed, r.Failed, r.Skipped}, []int{0, 1, 1}))
	qt.Assert(t, qt.DeepEquals(r.BadSkips, []string{"TestFentry: fentry_test.go:20: kernel forbids tracing programs even to root: operation not permitted"}))
	qt.Assert(t, qt.DeepEquals(r.Skips, []string{"TestNetkit: netkit_test.go:9: netkit needs 6.7"}))
}

func TestKernelRunOutcome(t *testing.T) {
	bins := []testBinary{
		{Name: "a.test", ImportPath: "m/a"},
		{Name: "b.test", ImportPath: "m/b"},
	}
	ok := &binaryResult{Name: "a.test", Passed: 3, Skipped: 1, Ended: true, Skips: []string{"TestS: needs clang"}}
	for _, tc := range []struct {
		name                    string
		run                     kernelRun
		ok                      bool
		passed, failed, skipped int
		table                   string
		recap                   string // writeRecap's whole output, squeezed
	}{
		{
			name: "all pass",
			run: kernelRun{Expected: bins, Done: true, Results: []*binaryResult{
				ok, {Name: "b.test", Passed: 2, Ended: true},
			}},
			ok: true, passed: 5, skipped: 1,
			table: "m/b  2  0  0  0s  ok\n  skipped in the VM:\n  a: TestS: needs clang\n",
		},
		{
			name: "failing test",
			run: kernelRun{Expected: bins, Done: true, Results: []*binaryResult{
				ok, {Name: "b.test", Passed: 1, Failed: 2, Ended: true, ExitCode: 1, Fails: []string{"TestY", "TestY/sub"}},
			}},
			passed: 4, failed: 2, skipped: 1,
			table: "m/b  1  2  0  0s  FAIL (exit 1)\n  skipped in the VM:\n  a: TestS: needs clang\n  FAILED: b: TestY\n  FAILED: b: TestY/sub\n",
			recap: "vmtest: FAILED on 6.1:\n  b: TestY\n  b: TestY/sub\n",
		},
		{
			name: "crash without a FAIL line counts as one failure",
			run: kernelRun{Expected: bins, Done: true, Results: []*binaryResult{
				ok, {Name: "b.test", Ended: true, ExitCode: 2},
			}},
			passed: 3, failed: 1, skipped: 1,
			table: "m/b  0  0  0  0s  FAIL (exit 2)",
			recap: "vmtest: FAILED on 6.1:\n  b: FAIL (exit 2)\n",
		},
		{
			name: "VM stopped: unfinished and missing binaries fail",
			run: kernelRun{Expected: bins, Err: errors.New("timed out"), Results: []*binaryResult{
				{Name: "a.test", Passed: 1},
			}},
			passed: 1, failed: 2,
			table: "m/b  -  -  -  -  NOT RUN",
			recap: "vmtest: FAILED on 6.1:\n  a: DID NOT FINISH\n  not run: b\n  VM: timed out\n",
		},
		{
			name: "guest hung: the kernel's first report and the console log are named",
			run: kernelRun{
				Expected: bins[:1], Err: errors.New("guest hung: the kernel reports a soft lockup"),
				Results:    []*binaryResult{{Name: "a.test", Passed: 1}},
				ConsoleLog: "/c/console-0-tcg.log", TroubleReports: 3,
				Trouble: &kernelReport{Kind: "soft lockup", Line: "watchdog: BUG: soft lockup - CPU#0 stuck for 45s! [a.test:9]", Where: "f+0x1/0x2"},
			},
			passed: 1, failed: 1,
			table: "m/a  1  0  0  0s  DID NOT FINISH\n" +
				"  VM FAILED: guest hung: the kernel reports a soft lockup\n" +
				"  KERNEL TROUBLE: 3 report(s), the first: soft lockup (watchdog: BUG: soft lockup - CPU#0 stuck for 45s! [a.test:9] at f+0x1/0x2)\n" +
				"  kernel console: /c/console-0-tcg.log\n",
		},
		{
			name: "kernel trouble is reported even when every test passed",
			run: kernelRun{
				Expected: bins[:1], Done: true, Results: []*binaryResult{ok},
				ConsoleLog: "/c/console-0-tcg.log", TroubleReports: 1,
				Trouble: &kernelReport{Kind: "RCU stall", Line: "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"},
			},
			ok: true, passed: 3, skipped: 1,
			table: "  KERNEL TROUBLE: 1 report(s), the first: RCU stall (rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:)\n" +
				"  kernel console: /c/console-0-tcg.log\n",
		},
		{
			name:   "VM failed before any binary",
			run:    kernelRun{Err: errors.New("qemu: exit status 1")},
			failed: 1,
			recap:  "vmtest: FAILED on 6.1:\n  VM: qemu: exit status 1\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.run.Kernel = &kernel{Label: "6.1"}
			qt.Assert(t, qt.Equals(tc.run.OK(), tc.ok))
			p, f, s := tc.run.counts()
			qt.Assert(t, qt.DeepEquals([]int{p, f, s}, []int{tc.passed, tc.failed, tc.skipped}))

			var sum strings.Builder
			tc.run.writeSummary(&sum)
			if tc.table != "" {
				qt.Assert(t, qt.StringContains(squeeze(sum.String()), tc.table))
			}
			var fails strings.Builder
			tc.run.writeFailures(&fails)
			qt.Assert(t, qt.Equals(fails.Len() == 0, tc.ok || len(tc.run.Results) == 0))

			var recap strings.Builder
			tc.run.writeRecap(&recap)
			if tc.recap != "" || tc.ok {
				qt.Assert(t, qt.Equals(squeeze(recap.String()), tc.recap))
			}
		})
	}
}

func TestGroupSkips(t *testing.T) {
	results := []*binaryResult{
		{Name: "ebpf.test", Skips: []string{
			"TestLLVM: x_test.go:5: llvm-readelf-19 is not installed",
			"TestNetkit: n_test.go:9: netkit needs 6.7",
			"TestLLVM2: x_test.go:5: llvm-readelf-19 is not installed",
			"TestLLVM3: x_test.go:5: llvm-readelf-19 is not installed",
			"TestBare",
		}},
		{Name: "link.test", Skips: []string{"TestNetkit: n_test.go:9: netkit needs 6.7"}},
	}
	qt.Assert(t, qt.DeepEquals(groupSkips(results), []string{
		"ebpf: TestLLVM (and 2 more like it): x_test.go:5: llvm-readelf-19 is not installed",
		"ebpf: TestNetkit: n_test.go:9: netkit needs 6.7",
		"ebpf: TestBare",
		"link: TestNetkit: n_test.go:9: netkit needs 6.7",
	}))
}

var manySpaces = regexp.MustCompile(" {2,}")

// squeeze collapses runs of spaces so that table rows compare without
// depending on column widths.
func squeeze(s string) string {
	return manySpaces.ReplaceAllString(s, "  ")
}

func TestRetryHung(t *testing.T) {
	bins := []testBinary{
		{Name: "a.test", ImportPath: "m/a"},
		{Name: "b.test", ImportPath: "m/b"},
		{Name: "c.test", ImportPath: "m/c"},
	}
	k := &kernel{Label: "6.1"}
	hung := &kernelRun{
		Kernel: k, Expected: bins, ConsoleLog: "/c/console-0-tcg.log",
		Err: fmt.Errorf("%w: the kernel reports a soft lockup", errGuestHung),
		Results: []*binaryResult{
			{Name: "a.test", Passed: 2, Ended: true},
			{Name: "b.test", Passed: 1},
		},
		Trouble: &kernelReport{Kind: "soft lockup", Line: "watchdog: BUG: soft lockup", Where: "syscall_trace_enter+0x1/0x2"},
	}
	var rest []testBinary
	kr, err := retryHung(hung, bins, func(r []testBinary) (*kernelRun, error) {
		rest = r
		return &kernelRun{Kernel: k, Done: true, ConsoleLog: "/c/console-0-retry1-tcg.log", Results: []*binaryResult{
			{Name: "b.test", Passed: 3, Ended: true},
			{Name: "c.test", Passed: 1, Ended: true},
		}}, nil
	})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(rest, bins[1:]))
	kr.Expected = bins
	qt.Assert(t, qt.IsTrue(kr.OK()))
	p, f, s := kr.counts()
	qt.Assert(t, qt.DeepEquals([]int{p, f, s}, []int{6, 0, 0}))

	var sum, recap strings.Builder
	kr.writeSummary(&sum)
	kr.writeRecap(&recap)
	want := "the guest hung in b.test (guest hung: the kernel reports a soft lockup); the binaries from it on ran again on a fresh boot; " +
		"console: /c/console-0-tcg.log; the kernel's first report: soft lockup (watchdog: BUG: soft lockup at syscall_trace_enter+0x1/0x2)\n"
	qt.Assert(t, qt.StringContains(sum.String(), "  REBOOTED: "+want))
	qt.Assert(t, qt.Equals(recap.String(), "vmtest: on 6.1 "+want))

	// A second hang in the same binary fails the run.
	kr, err = retryHung(hung, bins, func(r []testBinary) (*kernelRun, error) {
		return &kernelRun{Kernel: k, Err: hung.Err, Results: []*binaryResult{{Name: "b.test"}}}, nil
	})
	qt.Assert(t, qt.IsNil(err))
	kr.Expected = bins
	qt.Assert(t, qt.IsFalse(kr.OK()))
	recap.Reset()
	kr.writeRecap(&recap)
	qt.Assert(t, qt.StringContains(recap.String(), "vmtest: FAILED on 6.1:\n  b: DID NOT FINISH\n  not run: c\n  VM: guest hung"))

	// A hang between two binaries reruns from the next one.
	between := *hung
	between.Results = hung.Results[:1]
	kr, err = retryHung(&between, bins, func(r []testBinary) (*kernelRun, error) {
		rest = r
		return &kernelRun{Kernel: k, Done: true}, nil
	})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.DeepEquals(rest, bins[1:]))
	qt.Assert(t, qt.Equals(kr.Hung[0].In, "b.test"))

	// A hang after the last binary has nothing to run again.
	after := *hung
	after.Results = []*binaryResult{hung.Results[0], {Name: "b.test", Ended: true}, {Name: "c.test", Ended: true}}
	kr, err = retryHung(&after, bins, func([]testBinary) (*kernelRun, error) {
		t.Fatal("booted again with nothing to run")
		return nil, nil
	})
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(kr, &after))
}
