package main

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The result stream is what init.sh writes to ttyS1: marker lines that
// start with "@@vmtest " and, between a begin and an end marker, a test
// binary's own -test.v output.
const markerPrefix = "@@vmtest "

// binaryResult is what one test binary did in the VM.
type binaryResult struct {
	Name     string
	Output   []string // its own output, line by line
	Passed   int      // "--- PASS" lines, subtests included
	Failed   int
	Skipped  int
	Skips    []string // "TestX: the last line it logged", one per skip
	BadSkips []string // skips whose reason matched -fail-skips; counted as failures
	Fails    []string // names of the failed tests
	ExitCode int      // valid when Ended
	Ended    bool     // the end marker arrived
	Duration time.Duration

	running string            // the test the latest "=== RUN/CONT" named
	lastLog map[string]string // test -> its latest log entry, for Skips
}

// OK reports whether the binary finished and passed.
func (r *binaryResult) OK() bool { return r.Ended && r.ExitCode == 0 && r.Failed == 0 }

// status is the summary's word for r.
func (r *binaryResult) status() string {
	switch {
	case !r.Ended:
		return "DID NOT FINISH"
	case r.ExitCode != 0:
		return fmt.Sprintf("FAIL (exit %d)", r.ExitCode)
	case len(r.BadSkips) != 0 && r.Failed == len(r.BadSkips):
		return "FAIL (skip not allowed)"
	case r.Failed != 0:
		return "FAIL"
	}
	return "ok"
}

// streamParser turns the result stream into binaryResults. Feed it lines
// as they arrive; it calls OnEnd as each binary ends so the host can print
// progress while the VM still runs.
type streamParser struct {
	Results []*binaryResult
	Info    []string // KEY=VALUE, in arrival order
	Done    bool     // "@@vmtest done" arrived

	OnBegin func(*binaryResult)
	OnLine  func(*binaryResult, string)
	OnEnd   func(*binaryResult)

	// FailSkip, when set, turns a skip whose reason matches it into a
	// failure: in the VM, "this kernel forbids the program type" is a bug.
	FailSkip *regexp.Regexp

	now   func() time.Time
	cur   *binaryResult
	start time.Time
}

func newStreamParser() *streamParser { return &streamParser{now: time.Now} }

// Line handles one line, without its newline; a trailing \r from the tty
// is dropped.
func (p *streamParser) Line(line string) {
	line = strings.TrimSuffix(line, "\r")
	rest, isMarker := strings.CutPrefix(line, markerPrefix)
	if !isMarker {
		if p.cur == nil {
			return // noise before the first binary
		}
		p.cur.Output = append(p.cur.Output, line)
		countResult(p.cur, line, p.FailSkip)
		if p.OnLine != nil {
			p.OnLine(p.cur, line)
		}
		return
	}
	verb, arg, _ := strings.Cut(rest, " ")
	switch verb {
	case "info":
		p.Info = append(p.Info, arg)
	case "begin":
		p.finish(nil)
		p.cur = &binaryResult{Name: arg}
		p.start = p.now()
		p.Results = append(p.Results, p.cur)
		if p.OnBegin != nil {
			p.OnBegin(p.cur)
		}
	case "end":
		name, rc, _ := strings.Cut(arg, " ")
		if p.cur == nil || p.cur.Name != name {
			return
		}
		code, err := strconv.Atoi(strings.TrimPrefix(rc, "rc="))
		if err != nil {
			code = -1
		}
		// init.sh starts the end marker with a newline in case the output
		// did not end with one; drop the empty line that leaves.
		if n := len(p.cur.Output); n > 0 && p.cur.Output[n-1] == "" {
			p.cur.Output = p.cur.Output[:n-1]
		}
		p.finish(&code)
	case "done":
		p.finish(nil)
		p.Done = true
	}
}

// finish closes the current binary; code is nil when it never ended.
func (p *streamParser) finish(code *int) {
	if p.cur == nil {
		return
	}
	if code != nil {
		p.cur.Ended, p.cur.ExitCode = true, *code
	}
	p.cur.Duration = p.now().Sub(p.start)
	if p.OnEnd != nil {
		p.OnEnd(p.cur)
	}
	p.cur = nil
}

// Close ends a binary still running when the stream stopped (the VM died
// or timed out).
func (p *streamParser) Close() { p.finish(nil) }

// countResult counts go test -v result lines: "--- PASS: TestX (0.00s)",
// indented for subtests. A skip is recorded with the latest log entry of
// that test, which is where t.Skip puts its reason. Subtests report after
// their parent, so log entries are kept per test name, attributed by the
// "=== RUN" and "=== CONT" lines that precede them.
func countResult(r *binaryResult, line string, failSkip *regexp.Regexp) {
	t := strings.TrimLeft(line, " \t")
	switch {
	case strings.HasPrefix(t, "--- PASS: "):
		r.Passed++
	case strings.HasPrefix(t, "--- FAIL: "):
		r.Failed++
		name, _, _ := strings.Cut(strings.TrimPrefix(t, "--- FAIL: "), " (")
		r.Fails = append(r.Fails, name)
	case strings.HasPrefix(t, "--- SKIP: "):
		name, _, _ := strings.Cut(strings.TrimPrefix(t, "--- SKIP: "), " (")
		reason := r.lastLog[name]
		if reason != "" {
			name += ": " + reason
		}
		if failSkip != nil && reason != "" && failSkip.MatchString(reason) {
			r.Failed++
			r.BadSkips = append(r.BadSkips, name)
			return
		}
		r.Skipped++
		r.Skips = append(r.Skips, name)
	case strings.HasPrefix(line, "=== "):
		if f := strings.Fields(line); len(f) == 3 {
			r.running = f[2]
		}
	case t != line && goLogLine.MatchString(t):
		if r.lastLog == nil {
			r.lastLog = map[string]string{}
		}
		r.lastLog[r.running] = t
	}
}

// goLogLine is the start of a t.Log entry: "file_test.go:12: message".
var goLogLine = regexp.MustCompile(`^[^\s:]+\.go:\d+: `)

// maxSkipLines bounds the skip list of one kernel's summary.
const maxSkipLines = 40

// kernelRun is the outcome of one kernel's VM.
type kernelRun struct {
	Kernel   *kernel
	Accel    string
	Expected []testBinary // the manifest
	Results  []*binaryResult
	Info     []string
	Done     bool
	Err      error // boot or qemu failure, timeout, panic, hung guest
	Console  []string
	Duration time.Duration

	// Hung lists the earlier boots of this kernel whose guest hung; the
	// binaries that had not finished ran again on the next boot.
	Hung []hungBoot

	ConsoleLog     string        // the whole kernel console
	Trouble        *kernelReport // the kernel's first report of trouble
	TroubleReports int           // how many it printed

	running string            // the test the latest "=== RUN/CONT" named
	lastLog map[string]string // test -> its latest log entry, for Skips
}

// OK reports whether every binary ran and passed and the VM finished.
func (k *kernelRun) OK() bool {
	if k.Err != nil || !k.Done || len(k.Results) != len(k.Expected) {
		return false
	}
	for _, r := range k.Results {
		if !r.OK() {
			return false
		}
	}
	return true
}

// counts returns passed, failed and skipped tests. A binary that failed
// without a "--- FAIL" line (it crashed, timed out or never ran) counts
// as one failed test, so that the totals never hide a failure.
func (k *kernelRun) counts() (passed, failed, skipped int) {
	byName := map[string]*binaryResult{}
	for _, r := range k.Results {
		byName[r.Name] = r
		passed += r.Passed
		skipped += r.Skipped
		failed += r.Failed
		if !r.OK() && r.Failed == 0 {
			failed++
		}
	}
	for _, b := range k.Expected {
		if byName[b.Name] == nil {
			failed++
		}
	}
	if k.Err != nil && failed == 0 {
		failed++
	}
	return
}

// hungBoot is a boot that the host stopped because its guest hung.
type hungBoot struct {
	In         string // the binary that was running
	Err        error
	ConsoleLog string
	Trouble    *kernelReport
}

func (h hungBoot) String() string {
	s := fmt.Sprintf("the guest hung in %s (%v); the binaries from it on ran again on a fresh boot; console: %s", h.In, h.Err, h.ConsoleLog)
	if h.Trouble != nil {
		s += fmt.Sprintf("; the kernel's first report: %s (%s)", h.Trouble.Kind, h.Trouble)
	}
	return s
}

// writeSummary prints the per-package table of one kernel.
func (k *kernelRun) writeSummary(w io.Writer) {
	fmt.Fprintf(w, "\nvmtest: kernel %s, accel %s, %s\n", k.Kernel.Label, k.Accel, k.Duration.Round(time.Second))
	var facts []string
	for _, kv := range k.Info {
		key, val, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(kv, "config:"):
			fmt.Fprintf(w, "  kernel config: %s\n", strings.ReplaceAll(strings.TrimPrefix(kv, "config:"), ",", " "))
		case key == "cmdline":
			fmt.Fprintf(w, "  command line: %s\n", val)
		default:
			facts = append(facts, kv)
		}
	}
	if len(facts) > 0 {
		fmt.Fprintf(w, "  in the VM: %s\n", strings.Join(facts, " "))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PACKAGE\tPASSED\tFAILED\tSKIPPED\tTIME\tRESULT")
	byName := map[string]*binaryResult{}
	for _, r := range k.Results {
		byName[r.Name] = r
	}
	for _, b := range k.Expected {
		r := byName[b.Name]
		if r == nil {
			fmt.Fprintf(tw, "  %s\t-\t-\t-\t-\tNOT RUN\n", b.ImportPath)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%s\t%s\n", b.ImportPath, r.Passed, r.Failed, r.Skipped,
			r.Duration.Round(100*time.Millisecond), r.status())
	}
	tw.Flush()
	skips := groupSkips(k.Results)
	if len(skips) > 0 {
		fmt.Fprintf(w, "  skipped in the VM:\n")
		for i, sk := range skips {
			if i == maxSkipLines {
				fmt.Fprintf(w, "    ... and %d more (see the results log)\n", len(skips)-i)
				break
			}
			fmt.Fprintf(w, "    %s\n", sk)
		}
	}
	for _, r := range k.Results {
		for _, f := range r.Fails {
			fmt.Fprintf(w, "  FAILED: %s: %s\n", strings.TrimSuffix(r.Name, ".test"), f)
		}
		for _, sk := range r.BadSkips {
			fmt.Fprintf(w, "  FAILED, a skip not allowed in the VM: %s: %s\n", strings.TrimSuffix(r.Name, ".test"), sk)
		}
	}
	for _, h := range k.Hung {
		fmt.Fprintf(w, "  REBOOTED: %s\n", h)
	}
	if k.Err != nil {
		fmt.Fprintf(w, "  VM FAILED: %v\n", k.Err)
	} else if !k.Done {
		fmt.Fprintf(w, "  VM FAILED: it stopped before running every test binary\n")
	}
	if k.Trouble != nil {
		// Reported even when the run went on: a kernel that stalled
		// once under TCG may hang the next run.
		fmt.Fprintf(w, "  KERNEL TROUBLE: %d report(s), the first: %s (%s)\n", k.TroubleReports, k.Trouble.Kind, k.Trouble)
	}
	if (k.Err != nil || !k.Done || k.Trouble != nil) && k.ConsoleLog != "" {
		fmt.Fprintf(w, "  kernel console: %s\n", k.ConsoleLog)
	}
}

// groupSkips lists the skips of results, one line per binary and reason:
// tests that skipped for the same logged reason share a line ("TestA/x
// (and 7 more like it): f_test.go:12: no tool"), so that one missing tool
// does not fill the summary.
func groupSkips(results []*binaryResult) []string {
	var lines []string
	for _, r := range results {
		bin := strings.TrimSuffix(r.Name, ".test")
		var order []string
		first := map[string]string{}
		more := map[string]int{}
		for _, sk := range r.Skips {
			test, reason, ok := strings.Cut(sk, ": ")
			if !ok {
				test, reason = sk, ""
			}
			if _, seen := first[reason]; seen {
				more[reason]++
				continue
			}
			first[reason] = test
			order = append(order, reason)
		}
		for _, reason := range order {
			line := bin + ": " + first[reason]
			if n := more[reason]; n > 0 {
				line += fmt.Sprintf(" (and %d more like it)", n)
			}
			if reason != "" {
				line += ": " + reason
			}
			lines = append(lines, line)
		}
	}
	return lines
}

// maxRecapLines bounds the failure recap of one kernel.
const maxRecapLines = 20

// writeRecap prints, in a few lines, why k failed: the failed tests, the
// binaries that did not finish or run, and the VM's error. main prints it
// last, next to the totals, where a CI log's tail shows it.
func (k *kernelRun) writeRecap(w io.Writer) {
	for _, h := range k.Hung {
		// Said even when the next boot passed: a guest that hangs under
		// TCG now and then is worth knowing about.
		fmt.Fprintf(w, "vmtest: on %s %s\n", k.Kernel.Label, h)
	}
	if k.OK() {
		return
	}
	var lines []string
	ran := map[string]bool{}
	for _, r := range k.Results {
		ran[r.Name] = true
		bin := strings.TrimSuffix(r.Name, ".test")
		for _, f := range r.Fails {
			lines = append(lines, bin+": "+f)
		}
		for _, sk := range r.BadSkips {
			lines = append(lines, bin+": skip not allowed: "+sk)
		}
		if !r.OK() && len(r.Fails) == 0 && len(r.BadSkips) == 0 {
			lines = append(lines, bin+": "+r.status())
		} else if !r.Ended {
			lines = append(lines, bin+": DID NOT FINISH")
		}
	}
	var notRun []string
	for _, b := range k.Expected {
		if !ran[b.Name] {
			notRun = append(notRun, strings.TrimSuffix(b.Name, ".test"))
		}
	}
	if len(notRun) > 0 {
		lines = append(lines, "not run: "+strings.Join(notRun, " "))
	}
	if k.Err != nil {
		lines = append(lines, fmt.Sprintf("VM: %v", k.Err))
	} else if !k.Done {
		lines = append(lines, "VM: it stopped before running every test binary")
	}
	fmt.Fprintf(w, "vmtest: FAILED on %s:\n", k.Kernel.Label)
	for i, l := range lines {
		if i == maxRecapLines {
			fmt.Fprintf(w, "  ... and %d more (see the summary above)\n", len(lines)-i)
			break
		}
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// writeFailures prints the full output of each failed binary, then the
// tail of the kernel console if the VM itself failed.
func (k *kernelRun) writeFailures(w io.Writer) {
	for _, r := range k.Results {
		if r.OK() {
			continue
		}
		fmt.Fprintf(w, "\n=== vmtest: output of %s on %s (%s) ===\n", r.Name, k.Kernel.Label, r.status())
		for _, l := range r.Output {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintf(w, "=== vmtest: end of %s ===\n", r.Name)
	}
	if (k.Err != nil || !k.Done) && len(k.Console) > 0 {
		fmt.Fprintf(w, "\n=== vmtest: last %d lines of the kernel console ===\n", len(k.Console))
		for _, l := range k.Console {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintln(w, "=== vmtest: end of console ===")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
