package tracefs

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
)

func TestEventName(t *testing.T) {
	for _, tc := range []struct {
		args ProbeArgs
		want string
	}{
		{ProbeArgs{Type: Kprobe, Symbol: "bpf_prog_put"}, "bpf_prog_put"},
		{ProbeArgs{Type: Kprobe, Symbol: "nf_nat:nf_nat_init"}, "nf_nat_nf_nat_init"},
		{ProbeArgs{Type: Kprobe, Symbol: "foo.isra.0"}, "foo_isra_0"},
		{ProbeArgs{Type: Uprobe, Symbol: "main.(*T).Method", Path: "/bin/x"}, "main___T__Method"},
		{ProbeArgs{Type: Uprobe, Path: "/usr/lib/libc.so.6", Offset: 0x1234}, "libc_so_6_0x1234"},
		{ProbeArgs{Type: Uprobe, Symbol: "9lives", Path: "/bin/x"}, "_9lives"},
		{ProbeArgs{Type: Kprobe, Symbol: strings.Repeat("a", 100)}, strings.Repeat("a", 63)},
	} {
		qt.Assert(t, qt.Equals(eventName(tc.args), tc.want), qt.Commentf("%+v", tc.args))
	}
}

func TestProbeLine(t *testing.T) {
	const g, n = "grp", "evt"
	for _, tc := range []struct {
		args ProbeArgs
		want string
	}{
		{ProbeArgs{Type: Kprobe, Symbol: "bpf_prog_put"}, "p:grp/evt bpf_prog_put"},
		{ProbeArgs{Type: Kprobe, Symbol: "bpf_prog_put", Offset: 0x10}, "p:grp/evt bpf_prog_put+0x10"},
		{ProbeArgs{Type: Kprobe, Symbol: "nf_nat:nf_nat_init"}, "p:grp/evt nf_nat:nf_nat_init"},
		{ProbeArgs{Type: Kprobe, Symbol: "bpf_prog_put", Ret: true}, "r:grp/evt bpf_prog_put"},
		{ProbeArgs{Type: Kprobe, Symbol: "bpf_prog_put", Ret: true, RetMaxActive: 64}, "r64:grp/evt bpf_prog_put"},
		{ProbeArgs{Type: Uprobe, Path: "/bin/bash", Offset: 0x4a2b0}, "p:grp/evt /bin/bash:0x4a2b0"},
		{ProbeArgs{Type: Uprobe, Path: "/bin/bash", Offset: 0x4a2b0, Ret: true}, "r:grp/evt /bin/bash:0x4a2b0"},
		{ProbeArgs{Type: Uprobe, Path: "/bin/bash", Offset: 0x4a2b0, RefCtrOffset: 0x8100}, "p:grp/evt /bin/bash:0x4a2b0(0x8100)"},
		{ProbeArgs{Type: Uprobe, Path: "/bin/bash"}, "p:grp/evt /bin/bash:0x0"},
	} {
		qt.Assert(t, qt.IsNil(tc.args.check()), qt.Commentf("%+v", tc.args))
		qt.Assert(t, qt.Equals(probeLine(&tc.args, g, n), tc.want))
	}
}

func TestProbeArgsCheck(t *testing.T) {
	for _, tc := range []struct {
		args ProbeArgs
		want string
	}{
		{ProbeArgs{Type: Kprobe}, `kprobe symbol "": .*`},
		{ProbeArgs{Type: Kprobe, Symbol: "a b"}, `kprobe symbol "a b": .*`},
		{ProbeArgs{Type: Kprobe, Symbol: "foo\nr:x/y bar"}, `kprobe symbol .*`},
		{ProbeArgs{Type: Kprobe, Symbol: ":foo"}, `kprobe symbol ":foo": .*`},
		{ProbeArgs{Type: Kprobe, Symbol: "mod:"}, `kprobe symbol "mod:": .*`},
		{ProbeArgs{Type: Kprobe, Symbol: "a:b:c"}, `kprobe symbol "a:b:c": .*`},
		{ProbeArgs{Type: Kprobe, Symbol: "../x"}, `kprobe symbol "../x": .*`},
		{ProbeArgs{Type: Kprobe, Symbol: "f", Path: "/bin/x"}, `kprobe f: Path and RefCtrOffset are for uprobes: invalid argument`},
		{ProbeArgs{Type: Kprobe, Symbol: "f", RetMaxActive: 4}, `kprobe f: RetMaxActive 4 needs Ret .*`},
		{ProbeArgs{Type: Kprobe, Symbol: "f", Ret: true, RetMaxActive: -1}, `kprobe f: RetMaxActive -1 .*`},
		{ProbeArgs{Type: Uprobe}, `uprobe path "": empty or containing white space: invalid argument`},
		{ProbeArgs{Type: Uprobe, Path: "/bin/my prog"}, `uprobe path "/bin/my prog": .*`},
		{ProbeArgs{Type: Uprobe, Path: "/bin/x", Ret: true, RetMaxActive: 1}, `uprobe /bin/x: RetMaxActive is for kretprobes: invalid argument`},
		{ProbeArgs{Type: Kprobe, Symbol: "f", Group: "a/b"}, `trace event group "a/b": .*`},
		{ProbeArgs{Type: Kprobe, Symbol: "f", Group: strings.Repeat("g", 64)}, `trace event group .*`},
		{ProbeArgs{Type: 7}, `unknown probe type 7: invalid argument`},
	} {
		err := tc.args.check()
		qt.Assert(t, qt.ErrorIs(err, os.ErrInvalid), qt.Commentf("%+v", tc.args))
		qt.Assert(t, qt.ErrorMatches(err, tc.want))

		// NewEvent refuses them before touching tracefs.
		_, err = NewEvent(tc.args)
		qt.Assert(t, qt.ErrorIs(err, os.ErrInvalid))
	}
}

func TestRandomGroup(t *testing.T) {
	a, err := RandomGroup()
	qt.Assert(t, qt.IsNil(err))
	b, err := RandomGroup()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Not(qt.Equals(a, b)))
	qt.Assert(t, qt.Matches(a, regexp.QuoteMeta(GroupPrefix)+`_[0-9]+_[0-9a-f]{16}`))
	qt.Assert(t, qt.IsTrue(validIdentifier(a) && len(a) <= maxNameLen))
}

func TestParseConfigBit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint
	}{
		{"config:0", 0},
		{"config:32-63", 32},
		{"config:63", 63},
		{"config:5-5", 5},
	} {
		got, err := parseConfigBit(tc.in)
		qt.Assert(t, qt.IsNil(err), qt.Commentf("%q", tc.in))
		qt.Assert(t, qt.Equals(got, tc.want))
	}
	for _, in := range []string{"", "config:", "config1:0", "config:64", "config:-1", "config:3-2", "config:0-64", "config:a", "config:0-", "config:0-1-2"} {
		_, err := parseConfigBit(in)
		qt.Assert(t, qt.IsNotNil(err), qt.Commentf("%q", in))
	}
}
