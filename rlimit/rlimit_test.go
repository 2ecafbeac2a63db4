package rlimit

import (
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestMain(m *testing.M) { testutils.TestMain(m) }

func TestRemoveMemlock(t *testing.T) {
	testutils.RequireRoot(t)

	var before unix.Rlimit
	qt.Assert(t, qt.IsNil(unix.Prlimit(0, unix.RLIMIT_MEMLOCK, nil, &before)))

	qt.Assert(t, qt.IsNil(RemoveMemlock()))
	// Idempotent.
	qt.Assert(t, qt.IsNil(RemoveMemlock()))

	var after unix.Rlimit
	qt.Assert(t, qt.IsNil(unix.Prlimit(0, unix.RLIMIT_MEMLOCK, nil, &after)))

	v, err := internal.KernelVersion()
	qt.Assert(t, qt.IsNil(err))
	if v.Less(internal.Version{5, 11, 0}) {
		qt.Assert(t, qt.Equals(after.Cur, uint64(unix.RLIM_INFINITY)))
	} else {
		// Memcg accounting: the limit is left exactly as it was.
		qt.Assert(t, qt.IsTrue(memcg), qt.Commentf("kernel %s should account BPF memory to memcg", v))
		qt.Assert(t, qt.Equals(after, before))
	}
}
