package main

import (
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/internal/testutils"
)

// withPrivileged makes the command believe it has (or lacks) the privileges
// to load.
func withPrivileged(t *testing.T, has bool) {
	old := privileged
	privileged = func() bool { return has }
	t.Cleanup(func() { privileged = old })
}

// Without root, the README's command shows the embedded object and says in
// one line why it stops there.
func TestDefaultUnprivileged(t *testing.T) {
	withPrivileged(t, false)
	name, _ := defaultObject()

	out, stderr, code := bpfobj(t)
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
	qt.Assert(t, qt.Equals(stderr, ""))
	qt.Assert(t, qt.IsTrue(strings.HasPrefix(out, name+" (embedded default object): ")))
	assertRows(t, out,
		[]string{"packets", "Array", "4", "__u32", "8", "__u64", "1", "-", "none"},
		[]string{"xdp_count", "xdp", "XDP", "AttachXDP"},
		[]string{"runs", ".data", "0", "4", "__u32", "100"},
	)
	qt.Assert(t, qt.IsTrue(strings.HasSuffix(out, "note: load and run need root: run bpfobj as root to load this object and run its programs\n")))
	qt.Assert(t, qt.Not(qt.StringContains(out, "LOADED")))

	r, _, code := bpfobjJSON(t)
	qt.Assert(t, qt.Equals(code, exitOK))
	qt.Assert(t, qt.HasLen(r.Object.Programs, 2))
	qt.Assert(t, qt.IsNil(r.Load))
	qt.Assert(t, qt.StringContains(r.Note, "need root"))

	// Show flags work on the default object too.
	out, _, code = bpfobj(t, "-d", "-types")
	qt.Assert(t, qt.Equals(code, exitOK))
	qt.Assert(t, qt.StringContains(out, "DISASSEMBLY xdp_count"))
	qt.Assert(t, qt.StringContains(out, "type SectionData struct"))
}

// As root, the README's command shows, loads and runs: the values the
// object's top comment promises.
func TestDefaultPrivileged(t *testing.T) {
	testutils.RequireRoot(t)

	out, stderr, code := bpfobj(t)
	qt.Assert(t, qt.Equals(code, exitOK), qt.Commentf("stderr: %s", stderr))
	qt.Assert(t, qt.Equals(stderr, ""))
	assertRows(t, out,
		[]string{"packets", "Array", "4", "__u32", "8", "__u64", "1", "-", "none"},
		[]string{"LOADED", "INSNS", "PROCESSED"},
		[]string{"RUN", "socket_count"},
		[]string{"return", "50", "(keep", "50", "bytes)"},
		[]string{"after", "bytes", "=", "50", "(.bss)"},
		[]string{"runs", "=", "101", "(.data)"},
		[]string{"packets[0]", "=", "1"},
		[]string{"RUN", "xdp_count"},
		[]string{"return", "2", "(XDP_PASS)"},
		[]string{"after", "bytes", "=", "114", "(.bss)"},
		[]string{"runs", "=", "102", "(.data)"},
		[]string{"packets[0]", "=", "2"},
	)
	qt.Assert(t, qt.Not(qt.StringContains(out, "note:")))

	r, _, code := bpfobjJSON(t)
	qt.Assert(t, qt.Equals(code, exitOK))
	qt.Assert(t, qt.IsTrue(r.Load.OK))
	qt.Assert(t, qt.HasLen(r.Run, 2))
	qt.Assert(t, qt.Equals(r.Run[0].Program, "socket_count"))
	qt.Assert(t, qt.Equals(r.Run[0].Return, uint32(50)))
	qt.Assert(t, qt.Equals(r.Run[1].Program, "xdp_count"))
	qt.Assert(t, qt.Equals(r.Run[1].Return, uint32(2)))
	qt.Assert(t, qt.Equals(r.Note, ""))
}
