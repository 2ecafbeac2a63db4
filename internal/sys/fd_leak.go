package sys

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"weak"
)

// Leak tracking for tests.
//
// With tracking on, every NewFD records the stack that created the FD and
// keeps a weak reference to it. An FD that the garbage collector finds
// unreachable before Close is a leak: its runtime cleanup (or LeakedFDs,
// whichever sees it first) files the creation stack under the leaks.
// internal/testutils turns tracking on in TestMain and fails a package
// whose tests leaked.

var (
	trackFDs atomic.Bool
	leakMu   sync.Mutex
	openFDs  = map[*fdTrack]struct{}{}
	leaks    []string
)

type fdTrack struct {
	stack []uintptr
	fd    weak.Pointer[FD]
}

// EnableFDLeakTracking makes every FD created from now on record its
// creation stack (one runtime.Callers per NewFD). It cannot be turned off;
// call it once, before the tests run.
func EnableFDLeakTracking() {
	trackFDs.Store(true)
}

// LeakedFDs runs a garbage collection and returns the creation stacks of
// the tracked FDs that became unreachable without Close or Disown, oldest
// first. The descriptors themselves have been (or are being) closed by
// their runtime cleanup.
func LeakedFDs() []string {
	runtime.GC()
	leakMu.Lock()
	defer leakMu.Unlock()
	for t := range openFDs {
		if t.fd.Value() == nil {
			delete(openFDs, t)
			leaks = append(leaks, t.format())
		}
	}
	return slices.Clone(leaks)
}

// OpenFDs returns the creation stacks of the tracked FDs that are still
// open, in no particular order. A test that walks error paths with
// InjectFaults compares it before and after to prove that every path closed
// what it opened.
func OpenFDs() []string {
	leakMu.Lock()
	defer leakMu.Unlock()
	var out []string
	for t := range openFDs {
		if t.fd.Value() != nil {
			out = append(out, t.format())
		}
	}
	slices.Sort(out)
	return out
}

func newTrack() *fdTrack {
	if !trackFDs.Load() {
		return nil
	}
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs) // skip Callers, newTrack, NewFD
	return &fdTrack{stack: pcs[:n]}
}

func (t *fdTrack) register(fd *FD) {
	if t == nil {
		return
	}
	t.fd = weak.Make(fd)
	leakMu.Lock()
	openFDs[t] = struct{}{}
	leakMu.Unlock()
}

func (t *fdTrack) forget() {
	if t == nil {
		return
	}
	leakMu.Lock()
	delete(openFDs, t)
	leakMu.Unlock()
}

// leaked runs in the runtime cleanup of an unreachable FD.
func (t *fdTrack) leaked() {
	if t == nil {
		return
	}
	leakMu.Lock()
	defer leakMu.Unlock()
	if _, ok := openFDs[t]; ok {
		delete(openFDs, t)
		leaks = append(leaks, t.format())
	}
}

func (t *fdTrack) format() string {
	var b strings.Builder
	b.WriteString("fd created at:\n")
	frames := runtime.CallersFrames(t.stack)
	for {
		f, more := frames.Next()
		if f.Function != "" {
			b.WriteString("\t" + f.Function + "\n\t\t" + f.File + ":" + strconv.Itoa(f.Line) + "\n")
		}
		if !more {
			break
		}
	}
	return b.String()
}
