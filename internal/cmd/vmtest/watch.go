package main

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A guest can stop making progress without qemu exiting: a kernel that
// spins in a soft lockup, or a test binary stuck where its own
// -test.timeout can't fire because the guest kernel no longer schedules
// it. bootVM stops such a VM long before -timeout, from two sources: the
// kernel's own reports on the console (consoleWatch) and how long the
// current test binary has been running (binaryClock).

// kernelReport is one report of trouble printed by the guest kernel.
type kernelReport struct {
	Kind  string        // "panic", "soft lockup", "RCU stall", "hung task", "oops", "BUG"
	Line  string        // the report's first line, without its timestamp
	Stuck time.Duration // for a soft lockup: how long its CPU has been stuck
	Where string        // the kernel RIP printed with it, e.g. "syscall_trace_enter+0xe9/0x1a0"
}

func (r *kernelReport) String() string {
	if r.Where == "" {
		return r.Line
	}
	return r.Line + " at " + r.Where
}

var (
	consoleTimestamp = regexp.MustCompile(`^\[\s*\d+\.\d+\] `)
	softLockupLine   = regexp.MustCompile(`watchdog: BUG: soft lockup - CPU#\d+ stuck for (\d+)s!`)
	// die() prints "[Oops: ]int3: 0000 [#1] ...", "general protection
	// fault, ...: 0000 [#1] ..." after the BUG line, if any, that says why.
	dieLine       = regexp.MustCompile(`: [0-9a-f]{4} \[#\d+\]`)
	kernelRIPLine = regexp.MustCompile(`^RIP: 0010:(\S+)`)
)

// parseKernelReport recognizes the first line of a kernel report of
// trouble; line has no timestamp. Warnings (WARNING: ...) are not trouble:
// the kernel carries on after them.
func parseKernelReport(line string) (*kernelReport, bool) {
	r := &kernelReport{Line: line}
	switch {
	case strings.HasPrefix(line, "Kernel panic - not syncing"):
		r.Kind = "panic"
	case softLockupLine.MatchString(line):
		r.Kind = "soft lockup"
		s, _ := strconv.Atoi(softLockupLine.FindStringSubmatch(line)[1])
		r.Stuck = time.Duration(s) * time.Second
	case strings.HasPrefix(line, "rcu: INFO: ") && strings.Contains(line, "stall"):
		r.Kind = "RCU stall"
	case strings.HasPrefix(line, "INFO: task ") && strings.Contains(line, " blocked for more than "):
		r.Kind = "hung task"
	case strings.HasPrefix(line, "BUG: "):
		r.Kind = "BUG"
	case dieLine.MatchString(line):
		r.Kind = "oops"
	default:
		return nil, false
	}
	return r, true
}

// consoleWatch follows the kernel console of one VM. Feed it every line;
// it keeps the first report of trouble and says when a soft lockup has
// lasted LockupLimit.
type consoleWatch struct {
	LockupLimit time.Duration // 0: never give up on a lockup

	First   *kernelReport // the first report of trouble
	Panic   *kernelReport // "Kernel panic - not syncing: ..."
	Reports int           // how many reports of trouble

	needRIP  []*kernelReport // reports still waiting for their RIP line
	lockup   *kernelReport   // a lockup past the limit, waiting for its RIP
	waited   int             // console lines since lockup was found
	reported bool            // a lockup was returned
}

// ripWindow is how many lines after a report its RIP line may come.
const ripWindow = 12

// Line handles one console line, without its newline. Once, it returns
// the first soft lockup that has lasted LockupLimit, as soon as its report
// is complete: its RIP line arrived or ripWindow lines went by.
func (w *consoleWatch) Line(line string) *kernelReport {
	line = consoleTimestamp.ReplaceAllString(strings.TrimSuffix(line, "\r"), "")
	if m := kernelRIPLine.FindStringSubmatch(line); m != nil {
		for _, r := range w.needRIP {
			r.Where = m[1]
		}
		w.needRIP = nil
		return w.takeLockup()
	}
	if r, ok := parseKernelReport(line); ok {
		w.Reports++
		if w.First == nil {
			w.First = r
			w.needRIP = append(w.needRIP, r)
		}
		if r.Kind == "panic" && w.Panic == nil {
			w.Panic = r
		}
		if r.Kind == "soft lockup" && w.LockupLimit > 0 && r.Stuck >= w.LockupLimit && w.lockup == nil && !w.reported {
			w.lockup, w.waited = r, 0
			w.needRIP = append(w.needRIP, r)
			return nil
		}
	}
	if w.lockup != nil {
		if w.waited++; w.waited >= ripWindow {
			return w.takeLockup()
		}
	}
	return nil
}

// takeLockup returns the pending lockup, if any.
func (w *consoleWatch) takeLockup() *kernelReport {
	r := w.lockup
	if r != nil {
		w.lockup, w.reported = nil, true
	}
	return r
}

// binaryClock says which test binary the guest runs and since when. The
// result stream's reader sets it, bootVM's loop reads it.
type binaryClock struct {
	mu    sync.Mutex
	name  string
	since time.Time
}

func (c *binaryClock) set(name string, since time.Time) {
	c.mu.Lock()
	c.name, c.since = name, since
	c.mu.Unlock()
}

// overdue returns the binary that has been running longer than limit.
func (c *binaryClock) overdue(now time.Time, limit time.Duration) (string, time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.name == "" || limit <= 0 {
		return "", 0, false
	}
	ran := now.Sub(c.since)
	return c.name, ran, ran > limit
}
