package sys

import (
	"errors"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
)

type call struct {
	Cmd Cmd
	N   int
}

// recordFaults installs fn and records every call it sees.
func recordFaults(t *testing.T, fn FaultFunc) *[]call {
	t.Helper()
	var calls []call
	restore := InjectFaults(func(cmd Cmd, n int) error {
		calls = append(calls, call{cmd, n})
		return fn(cmd, n)
	})
	t.Cleanup(restore)
	return &calls
}

func TestFaultFailsNthCall(t *testing.T) {
	calls := recordFaults(t, func(cmd Cmd, n int) error {
		if n == 2 {
			return unix.ENOMEM
		}
		return unix.EBADF // keep the calls away from the kernel
	})
	var attr MapFreezeAttr
	qt.Check(t, qt.ErrorIs(MapFreeze(&attr), unix.EBADF))
	qt.Check(t, qt.ErrorIs(MapFreeze(&attr), unix.ENOMEM))
	_, err := MapCreate(&MapCreateAttr{})
	qt.Check(t, qt.ErrorIs(err, unix.EBADF))
	qt.Check(t, qt.DeepEquals(*calls, []call{{BPF_MAP_FREEZE, 1}, {BPF_MAP_FREEZE, 2}, {BPF_MAP_CREATE, 3}}))
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name    string
		cmd     Cmd
		errno   unix.Errno
		fails   int // the first calls that fail with errno
		calls   int
		wantErr error
	}{
		{"EINTR is retried", BPF_MAP_FREEZE, unix.EINTR, 3, 4, unix.EBADF},
		{"EINTR gives up", BPF_MAP_FREEZE, unix.EINTR, 1000, maxEINTRRetries + 1, unix.EINTR},
		{"EAGAIN from the verifier is retried", BPF_PROG_LOAD, unix.EAGAIN, 2, 3, unix.EBADF},
		{"EAGAIN from the verifier gives up", BPF_PROG_LOAD, unix.EAGAIN, 1000, maxEAGAINRetries + 1, unix.EAGAIN},
		{"EAGAIN elsewhere is an answer", BPF_MAP_FREEZE, unix.EAGAIN, 1, 1, unix.EAGAIN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := recordFaults(t, func(cmd Cmd, n int) error {
				if n <= tt.fails {
					return tt.errno
				}
				return unix.EBADF
			})
			_, err := BPF(tt.cmd, nil, 0)
			qt.Check(t, qt.ErrorIs(err, tt.wantErr))
			qt.Check(t, qt.HasLen(*calls, tt.calls))
		})
	}
}

func TestErrnoErrors(t *testing.T) {
	tests := []struct {
		cmd   Cmd
		errno unix.Errno
		text  string // "" for the permission explanation
	}{
		{BPF_MAP_CREATE, unix.EPERM, ""},
		{BPF_PROG_LOAD, unix.EPERM, ""},
		// On an element of an existing map, EPERM is the map's answer
		// (read-only, frozen), not a question of privilege.
		{BPF_MAP_UPDATE_ELEM, unix.EPERM, "operation not permitted"},
		{BPF_MAP_LOOKUP_BATCH, unix.EPERM, "operation not permitted"},
		{BPF_MAP_CREATE, ENOTSUPP, "operation not supported by the kernel (ENOTSUPP)"},
		{BPF_MAP_CREATE, unix.ENOENT, "no such file or directory"},
	}
	for _, tt := range tests {
		recordFaults(t, func(Cmd, int) error { return tt.errno })
		_, err := BPF(tt.cmd, nil, 0)
		qt.Check(t, qt.ErrorIs(err, tt.errno))
		if tt.text == "" {
			qt.Check(t, qt.StringContains(err.Error(), "operation not permitted"))
			qt.Check(t, qt.StringContains(err.Error(), "CAP_"))
			continue
		}
		qt.Check(t, qt.Equals(err.Error(), tt.text))
	}
}

func TestPermissionText(t *testing.T) {
	all := internal.Capabilities(1<<unix.CAP_BPF | 1<<unix.CAP_SYS_ADMIN | 1<<unix.CAP_PERFMON |
		1<<unix.CAP_NET_ADMIN | 1<<unix.CAP_SYS_RESOURCE)
	tests := []struct {
		name    string
		caps    internal.Capabilities
		known   bool
		memlock bool
		want    string
	}{
		{"unknown", 0, false, false,
			"operation not permitted: bpf(2) requires CAP_BPF or CAP_SYS_ADMIN"},
		{"none", 1 << unix.CAP_NET_ADMIN, true, false,
			"operation not permitted: bpf(2) requires CAP_BPF or CAP_SYS_ADMIN, and the process has neither"},
		{"none old kernel", 0, true, true,
			"operation not permitted: bpf(2) requires CAP_BPF or CAP_SYS_ADMIN, and the process has neither; on kernels before 5.11 also RLIMIT_MEMLOCK (see rlimit.RemoveMemlock)"},
		{"all", all, true, false,
			"operation not permitted although the process holds CAP_BPF and CAP_SYS_ADMIN: an LSM, lockdown, kernel.unprivileged_bpf_disabled or a sandbox forbids it"},
		{"no sys_resource", all &^ (1 << unix.CAP_SYS_RESOURCE), true, false,
			"operation not permitted although the process holds CAP_BPF and CAP_SYS_ADMIN: it lacks CAP_SYS_RESOURCE, or an LSM, lockdown, kernel.unprivileged_bpf_disabled or a sandbox forbids it"},
		{"cap_bpf only", 1 << unix.CAP_BPF, true, false,
			"operation not permitted although the process holds CAP_BPF: it lacks CAP_SYS_ADMIN, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_RESOURCE, or an LSM, lockdown, kernel.unprivileged_bpf_disabled or a sandbox forbids it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qt.Check(t, qt.Equals(permissionText(tt.caps, tt.known, tt.memlock), tt.want))
		})
	}
}

func TestFaultOtherError(t *testing.T) {
	boom := errors.New("boom")
	recordFaults(t, func(Cmd, int) error { return boom })
	_, err := BPF(BPF_MAP_CREATE, nil, 0)
	qt.Assert(t, qt.Equals(err, boom))
}

func TestInjectFaultsRestores(t *testing.T) {
	outer := recordFaults(t, func(Cmd, int) error { return unix.EBADF })
	inner := 0
	restore := InjectFaults(func(Cmd, int) error { inner++; return unix.EBADF })
	BPF(BPF_MAP_FREEZE, nil, 0)
	restore()
	BPF(BPF_MAP_FREEZE, nil, 0)
	qt.Check(t, qt.Equals(inner, 1))
	qt.Check(t, qt.DeepEquals(*outer, []call{{BPF_MAP_FREEZE, 1}}))
}

// TestFaultsReachTheKernel checks that nil from the hook lets the call
// through.
func TestFaultsReachTheKernel(t *testing.T) {
	requireBPF(t)
	calls := recordFaults(t, func(Cmd, int) error { return nil })
	fd, err := MapCreate(&MapCreateAttr{MapType: BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	qt.Check(t, qt.IsNil(fd.Close()))
	qt.Check(t, qt.DeepEquals(*calls, []call{{BPF_MAP_CREATE, 1}}))
}

func TestEnumStrings(t *testing.T) {
	qt.Check(t, qt.Equals(BPF_MAP_CREATE.String(), "BPF_MAP_CREATE"))
	qt.Check(t, qt.Equals(BPF_PROG_RUN.String(), "BPF_PROG_RUN"))
	qt.Check(t, qt.Equals(BPF_MAP_TYPE_CGROUP_STORAGE.String(), "BPF_MAP_TYPE_CGROUP_STORAGE"))
	qt.Check(t, qt.Equals(Cmd(1000).String(), "Cmd(1000)"))
	qt.Check(t, qt.Equals(BPF_TRACE_KPROBE_MULTI.String(), "BPF_TRACE_KPROBE_MULTI"))
	qt.Check(t, qt.Equals(BPF_LINK_TYPE_NETKIT.String(), "BPF_LINK_TYPE_NETKIT"))
}

// twoMaps stands in for code that makes several objects (NewCollection):
// it must close what it made when a later step fails.
func twoMaps() (a, b *FD, err error) {
	attr := MapCreateAttr{MapType: BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	if a, err = MapCreate(&attr); err != nil {
		return nil, nil, err
	}
	if b, err = MapCreate(&attr); err != nil {
		a.Close()
		return nil, nil, err
	}
	var info MapInfo
	if err = ObjInfo(b, &info); err != nil {
		a.Close()
		b.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// TestFaultWalk shows the pattern InjectFaults is for: fail each call in
// turn and check that no file descriptor stays open.
func TestFaultWalk(t *testing.T) {
	requireBPF(t)
	open := len(OpenFDs())
	for n := 1; ; n++ {
		hit := false
		restore := InjectFaults(func(_ Cmd, i int) error {
			if i == n {
				hit = true
				return unix.ENOMEM
			}
			return nil
		})
		a, b, err := twoMaps()
		restore()
		if !hit {
			qt.Assert(t, qt.IsNil(err))
			a.Close()
			b.Close()
			qt.Check(t, qt.Equals(n, 4), qt.Commentf("three calls, then one without a fault"))
			break
		}
		qt.Check(t, qt.ErrorIs(err, unix.ENOMEM), qt.Commentf("call %d", n))
		qt.Check(t, qt.HasLen(OpenFDs(), open), qt.Commentf("call %d leaves descriptors open", n))
	}
}
