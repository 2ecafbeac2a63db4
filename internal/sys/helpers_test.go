package sys

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
)

// The helpers here stand in for internal/testutils, which imports this
// package and so cannot be used by its internal tests.

func TestMain(m *testing.M) {
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. Lifting
	// it needs privilege; without it the tests skip on EPERM anyway.
	unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY})
	EnableFDLeakTracking()
	code := m.Run()
	if leaked := LeakedFDs(); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "%d file descriptors leaked:\n%s", len(leaked), strings.Join(leaked, "\n"))
		code = 1
	}
	os.Exit(code)
}

var bpfProbe = sync.OnceValue(func() error {
	attr := MapCreateAttr{MapType: BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	fd, err := MapCreate(&attr)
	if err != nil {
		return err
	}
	return fd.Close()
})

// requireBPF skips the test when bpf(2) is not permitted (EPERM for an
// unprivileged user) and fails it for any other error.
func requireBPF(tb testing.TB) {
	tb.Helper()
	err := bpfProbe()
	if errors.Is(err, unix.EPERM) {
		tb.Skip("bpf(2) requires CAP_BPF/CAP_SYS_ADMIN: creating a probe map failed with EPERM")
	}
	if err != nil {
		tb.Fatal("probe bpf(2):", err)
	}
}

// tempBPFFS returns a fresh directory on the BPF file system at
// /sys/fs/bpf, mounting it there first if needed; it is removed with
// everything pinned in it when the test ends.
func tempBPFFS(tb testing.TB) string {
	tb.Helper()
	requireBPF(tb)
	const mnt = "/sys/fs/bpf"
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil || uint32(st.Type) != uint32(unix.BPF_FS_MAGIC) {
		if err := os.MkdirAll(mnt, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := unix.Mount("bpf", mnt, "bpf", 0, ""); err != nil {
			tb.Fatal("mount bpffs:", err)
		}
	}
	dir, err := os.MkdirTemp(mnt, "sys-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// retInsns is the two-instruction program "r0 = ret; exit".
func retInsns(ret int32) []byte {
	insns := make([]byte, 16)
	insns[0] = 0xb7 // BPF_ALU64 | BPF_MOV | BPF_K, dst r0
	internal.NativeEndian.PutUint32(insns[4:], uint32(ret))
	insns[8] = 0x95 // BPF_JMP | BPF_EXIT
	return insns
}

func loadProg(tb testing.TB, typ ProgType, insns []byte, name string) *FD {
	tb.Helper()
	log := make([]byte, 4096)
	attr := ProgLoadAttr{
		ProgType: typ,
		InsnCnt:  uint32(len(insns) / 8),
		Insns:    NewSlicePointer(insns),
		License:  NewStringPointer("MIT"),
		ProgName: NewObjName(name),
		LogLevel: 1,
		LogSize:  uint32(len(log)),
		LogBuf:   NewSlicePointer(log),
	}
	fd, err := ProgLoad(&attr)
	if err != nil {
		tb.Fatalf("load %s program: %v\n%s", typ, err, unix.ByteSliceToString(log))
	}
	tb.Cleanup(func() { fd.Close() })
	return fd
}

func createMap(tb testing.TB, attr MapCreateAttr) *FD {
	tb.Helper()
	fd, err := MapCreate(&attr)
	if err != nil {
		tb.Fatalf("create %s: %v", attr.MapType, err)
	}
	tb.Cleanup(func() { fd.Close() })
	return fd
}

func ptrTo[T any](v *T) Pointer { return NewPointer(unsafe.Pointer(v)) }

// requireKernel skips the test on kernels older than version, the first
// with feature.
func requireKernel(tb testing.TB, version, feature string) {
	tb.Helper()
	want, err := internal.NewVersion(version)
	if err != nil {
		tb.Fatal(err)
	}
	have, err := internal.KernelVersion()
	if err != nil {
		tb.Fatal(err)
	}
	if have.Less(want) {
		tb.Skipf("%s requires Linux %s, running %s", feature, want, have)
	}
}
