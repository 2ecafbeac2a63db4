package main

import (
	"strings"
	"testing"
	"time"

	"github.com/go-quicktest/qt"
	"github.com/google/go-cmp/cmp"
)

func TestParseKernelReport(t *testing.T) {
	for _, tc := range []struct {
		line  string
		kind  string
		stuck time.Duration
	}{
		{"Kernel panic - not syncing: Fatal exception in interrupt", "panic", 0},
		{"watchdog: BUG: soft lockup - CPU#1 stuck for 45s! [link.test:142]", "soft lockup", 45 * time.Second},
		{"rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", "RCU stall", 0},
		{"rcu: INFO: rcu_sched self-detected stall on CPU", "RCU stall", 0},
		{"INFO: task link.test:120 blocked for more than 120 seconds.", "hung task", 0},
		{"BUG: kernel NULL pointer dereference, address: 0000000000000008", "BUG", 0},
		{"Oops: int3: 0000 [#1] PREEMPT SMP NOPTI", "oops", 0},          // 6.12
		{"int3: 0000 [#1] PREEMPT SMP NOPTI", "oops", 0},                // 6.1
		{"general protection fault: 0000 [#1] SMP NOPTI", "oops", 0},    // no BUG line before it
		{"WARNING: CPU: 0 PID: 1 at kernel/foo.c:1 foo+0x1/0x2", "", 0}, // the kernel goes on
		{"rcu: Preemptible hierarchical RCU implementation.", "", 0},
		{"hrtimer: interrupt took 47304025 ns", "", 0},
	} {
		r, ok := parseKernelReport(tc.line)
		qt.Assert(t, qt.Equals(ok, tc.kind != ""), qt.Commentf("%q", tc.line))
		if ok {
			qt.Assert(t, qt.Equals(r.Kind, tc.kind))
			qt.Assert(t, qt.Equals(r.Stuck, tc.stuck))
			qt.Assert(t, qt.Equals(r.Line, tc.line))
		}
	}
}

// lockupConsole is the console of the 6.1 guest that hung in the link
// tests, shortened: an RCU stall, then soft lockups that go on.
const lockupConsole = `[    3.519341] Run /init as init process
[   28.688996] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
[   28.690285] 	(detected by 0, t=5252 jiffies, g=-35, q=1 ncpus=2)
[   28.705374] NMI backtrace for cpu 1
[   28.707112] RIP: 0010:asm_exc_int3+0x0/0x40
[   28.709599] RIP: 0010:syscall_trace_enter.constprop.0+0xea/0x1a0
[   28.710506] RIP: 0033:0x495797
[   53.352895] watchdog: BUG: soft lockup - CPU#0 stuck for 45s! [link.test:122]
[   53.353104] Modules linked in: sch_fq act_bpf cls_bpf sch_ingress tun dummy veth
[   53.353613] RIP: 0010:syscall_trace_enter.constprop.0+0xe9/0x1a0
[   81.351249] watchdog: BUG: soft lockup - CPU#0 stuck for 71s! [link.test:122]
[   81.352022] RIP: 0010:syscall_trace_enter.constprop.0+0xe9/0x1a0
[  117.358999] watchdog: BUG: soft lockup - CPU#0 stuck for 105s! [link.test:122]
[  117.379511] RIP: 0010:syscall_trace_enter.constprop.0+0xe9/0x1a0
[  117.455235] watchdog: BUG: soft lockup - CPU#1 stuck for 104s! [link.test:121]
[  117.456395] RIP: 0010:syscall_trace_enter.constprop.0+0xe9/0x1a0
[  145.351297] watchdog: BUG: soft lockup - CPU#0 stuck for 131s! [link.test:122]
[  145.351918] RIP: 0010:syscall_trace_enter.constprop.0+0xe9/0x1a0
[  145.455242] watchdog: BUG: soft lockup - CPU#1 stuck for 130s! [link.test:121]
[  145.455995] RIP: 0010:syscall_trace_enter.constprop.0+0xe9/0x1a0`

// feed gives w the console line by line and returns the lockup it
// reported, with the line it reported it on (0-based), or -1.
func feed(w *consoleWatch, console string) (*kernelReport, int) {
	var got *kernelReport
	at := -1
	for i, line := range strings.Split(console, "\n") {
		if r := w.Line(line + "\r"); r != nil {
			if got != nil {
				panic("a second lockup reported")
			}
			got, at = r, i
		}
	}
	return got, at
}

func TestConsoleWatch(t *testing.T) {
	w := &consoleWatch{LockupLimit: 100 * time.Second}
	got, at := feed(w, lockupConsole)
	want := &kernelReport{
		Kind: "soft lockup", Line: "watchdog: BUG: soft lockup - CPU#0 stuck for 105s! [link.test:122]",
		Stuck: 105 * time.Second, Where: "syscall_trace_enter.constprop.0+0xe9/0x1a0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("lockup (-want +got):\n%s", diff)
	}
	qt.Assert(t, qt.Equals(at, 13)) // on its RIP line
	qt.Assert(t, qt.Equals(got.String(), want.Line+" at "+want.Where))
	// The first report is the RCU stall, placed by the first kernel RIP
	// after it; user-space RIPs (0033) don't count.
	qt.Assert(t, qt.DeepEquals(w.First, &kernelReport{
		Kind: "RCU stall", Line: "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", Where: "asm_exc_int3+0x0/0x40",
	}))
	qt.Assert(t, qt.Equals(w.Reports, 7))
	qt.Assert(t, qt.IsNil(w.Panic))

	// Without a limit, lockups are only counted.
	w = &consoleWatch{}
	got, _ = feed(w, lockupConsole)
	qt.Assert(t, qt.IsNil(got))
	qt.Assert(t, qt.Equals(w.Reports, 7))

	// A lockup report without a RIP line is returned ripWindow lines on.
	w = &consoleWatch{LockupLimit: time.Second}
	got, at = feed(w, "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [x:1]"+strings.Repeat("\nnoise", ripWindow+5))
	qt.Assert(t, qt.Equals(got.Stuck, 22*time.Second))
	qt.Assert(t, qt.Equals(at, ripWindow))
	qt.Assert(t, qt.Equals(got.Where, ""))
}

func TestConsoleWatchPanic(t *testing.T) {
	// The 6.12 guest: a stale int3 oopses, the oops panics.
	w := &consoleWatch{LockupLimit: time.Minute}
	got, _ := feed(w, `[   24.960226] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
[   24.960499] CPU: 0 UID: 0 PID: 168 Comm: link.test Not tainted 6.12.95+deb12-amd64 #1
[   24.960695] RIP: 0010:syscall_trace_enter+0xcf/0x190
[   24.962364] RIP: 0033:0x4957f7
[   24.963131] RIP: 0010:syscall_trace_enter+0xcf/0x190
[   24.963338] Kernel panic - not syncing: Fatal exception in interrupt`)
	qt.Assert(t, qt.IsNil(got))
	qt.Assert(t, qt.DeepEquals(w.First, &kernelReport{Kind: "oops", Line: "Oops: int3: 0000 [#1] PREEMPT SMP NOPTI", Where: "syscall_trace_enter+0xcf/0x190"}))
	qt.Assert(t, qt.Equals(w.Panic.Line, "Kernel panic - not syncing: Fatal exception in interrupt"))
	qt.Assert(t, qt.Equals(w.Reports, 2))
}

func TestBinaryClock(t *testing.T) {
	var c binaryClock
	t0 := time.Unix(1000, 0)
	_, _, over := c.overdue(t0, time.Minute)
	qt.Assert(t, qt.IsFalse(over)) // nothing running
	c.set("link.test", t0)
	_, _, over = c.overdue(t0.Add(time.Minute), time.Minute)
	qt.Assert(t, qt.IsFalse(over))
	name, ran, over := c.overdue(t0.Add(61*time.Second), time.Minute)
	qt.Assert(t, qt.IsTrue(over))
	qt.Assert(t, qt.Equals(name, "link.test"))
	qt.Assert(t, qt.Equals(ran, 61*time.Second))
	_, _, over = c.overdue(t0.Add(time.Hour), 0)
	qt.Assert(t, qt.IsFalse(over)) // no limit
	c.set("", time.Time{})
	_, _, over = c.overdue(t0.Add(time.Hour), time.Minute)
	qt.Assert(t, qt.IsFalse(over))
}
