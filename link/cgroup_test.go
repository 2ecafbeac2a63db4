package link

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/sys"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// cgroup2Root returns where cgroup v2 is mounted, mounting it in a
// temporary directory if nowhere.
func cgroup2Root(t testing.TB) string {
	t.Helper()
	testutils.RequireRoot(t)
	f, err := os.Open("/proc/self/mountinfo")
	qt.Assert(t, qt.IsNil(err))
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, field := range fields {
			if field == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return fields[4]
			}
		}
	}
	qt.Assert(t, qt.IsNil(sc.Err()))
	dir := t.TempDir()
	qt.Assert(t, qt.IsNil(unix.Mount("cgroup2", dir, "cgroup2", 0, "")))
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// testCgroup creates a cgroup for the test and moves the test process into
// it; the process moves back and the cgroup is removed when the test ends.
func testCgroup(t *testing.T) string {
	t.Helper()
	root := cgroup2Root(t)
	raw, err := os.ReadFile("/proc/self/cgroup")
	qt.Assert(t, qt.IsNil(err))
	var orig string
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			orig = rest
		}
	}
	dir, err := os.MkdirTemp(root, "bpfkit-link-")
	qt.Assert(t, qt.IsNil(err))
	pid := []byte(strconv.Itoa(os.Getpid()))
	qt.Assert(t, qt.IsNil(os.WriteFile(filepath.Join(dir, "cgroup.procs"), pid, 0)))
	t.Cleanup(func() {
		if err := os.WriteFile(filepath.Join(root, orig, "cgroup.procs"), pid, 0); err != nil {
			t.Errorf("move back to cgroup %s: %v", orig, err)
		}
		if err := os.Remove(dir); err != nil {
			t.Errorf("remove test cgroup: %v", err)
		}
	})
	return dir
}

// cgroupTriggers runs the operation each cgroup hook of link_cgroup
// watches.
var cgroupTriggers = map[string]func(t *testing.T){
	"sock_create": func(t *testing.T) {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		qt.Assert(t, qt.IsNil(err))
		unix.Close(fd)
	},
	"connect4":    func(t *testing.T) { udpRoundTrip(t) },
	"skb_egress":  func(t *testing.T) { udpRoundTrip(t) },
	"skb_ingress": func(t *testing.T) { udpRoundTrip(t) },
	"sysctl": func(t *testing.T) {
		_, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
		qt.Assert(t, qt.IsNil(err))
	},
	"getsockopt": func(t *testing.T) {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		qt.Assert(t, qt.IsNil(err))
		defer unix.Close(fd)
		_, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
		qt.Assert(t, qt.IsNil(err))
	},
	"dev": func(t *testing.T) {
		f, err := os.Open("/dev/null")
		qt.Assert(t, qt.IsNil(err))
		f.Close()
	},
}

// udpRoundTrip connects a UDP socket to a listener on 127.0.0.1 and sends
// it a datagram, which it receives.
func udpRoundTrip(t testing.TB) {
	t.Helper()
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	qt.Assert(t, qt.IsNil(err))
	defer srv.Close()
	cl, err := net.DialUDP("udp4", nil, srv.LocalAddr().(*net.UDPAddr))
	qt.Assert(t, qt.IsNil(err))
	defer cl.Close()
	_, err = cl.Write([]byte("bpfkit"))
	qt.Assert(t, qt.IsNil(err))
	buf := make([]byte, 16)
	n, err := srv.Read(buf)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(string(buf[:n]), "bpfkit"))
}

func TestCgroup(t *testing.T) {
	cg := testCgroup(t)
	obj := loadObject(t, "link_cgroup")
	var st unix.Stat_t
	qt.Assert(t, qt.IsNil(unix.Stat(cg, &st)))

	for name, trigger := range cgroupTriggers {
		t.Run(name, func(t *testing.T) {
			prog := obj.program(name)
			attach := obj.spec.Programs[name].AttachType
			counter := name + "_count"
			if strings.HasPrefix(name, "skb_") {
				counter = strings.TrimPrefix(name, "skb_") + "_count"
			}

			l, err := AttachCgroup(CgroupOptions{Path: cg, Attach: attach, Program: prog})
			qt.Assert(t, qt.IsNil(err))
			keep(t, l)
			trigger(t)
			qt.Assert(t, qt.IsTrue(obj.counter(counter) >= 1), qt.Commentf("%s", counter))

			info, err := l.Info()
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(info.Type, CgroupType))
			qt.Assert(t, qt.DeepEquals(info.Cgroup(), &CgroupInfo{CgroupId: st.Ino, AttachType: attach}))

			res, err := QueryPrograms(QueryOptions{Target: cgroupFD(t, cg), Attach: attach})
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.HasLen(res.Programs, 1))
			qt.Assert(t, qt.Equals(res.Programs[0].ID, info.Program))

			pinAndReload(t, l)
			qt.Assert(t, qt.IsNil(l.Detach()))
			before := obj.counter(counter)
			trigger(t)
			qt.Assert(t, qt.Equals(obj.counter(counter), before))
			mustClose(t, l)

			res, err = QueryPrograms(QueryOptions{Target: cgroupFD(t, cg), Attach: attach})
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.HasLen(res.Programs, 0))
		})
	}
}

// cgroupFD opens the cgroup directory for the test's duration.
func cgroupFD(t testing.TB, path string) int {
	t.Helper()
	f, err := os.Open(path)
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { f.Close() })
	return int(f.Fd())
}

func TestCgroupUpdate(t *testing.T) {
	cg := testCgroup(t)
	obj := loadObject(t, "link_cgroup")
	prog := obj.program("skb_egress")
	other, m := counterProgram(t, ebpf.CGroupSKB, ebpf.AttachCGroupInetEgress, 1)

	l, err := AttachCgroup(CgroupOptions{Path: cg, Attach: ebpf.AttachCGroupInetEgress, Program: prog})
	qt.Assert(t, qt.IsNil(err))
	keep(t, l)
	udpRoundTrip(t)
	qt.Assert(t, qt.IsTrue(obj.counter("egress_count") >= 1))

	qt.Assert(t, qt.IsNil(l.Update(other)))
	before := obj.counter("egress_count")
	udpRoundTrip(t)
	qt.Assert(t, qt.Equals(obj.counter("egress_count"), before))
	qt.Assert(t, qt.IsTrue(count(t, m) >= 1))

	// Replacing with the expected old program only.
	raw := l.(*linkCgroup).RawLink
	err = raw.UpdateArgs(RawLinkUpdateOptions{New: prog, Old: prog})
	qt.Assert(t, qt.ErrorIs(err, unix.EPERM))
	qt.Assert(t, qt.IsNil(raw.UpdateArgs(RawLinkUpdateOptions{New: prog, Old: other})))
	mustClose(t, l)
}

// TestCgroupLegacy exercises the BPF_PROG_ATTACH fallback of kernels
// before 5.7, in multi and override mode.
func TestCgroupLegacy(t *testing.T) {
	cg := testCgroup(t)
	obj := loadObject(t, "link_cgroup")
	prog := obj.program("skb_egress")
	other, m := counterProgram(t, ebpf.CGroupSKB, ebpf.AttachCGroupInetEgress, 1)

	for _, flags := range []uint32{sys.BPF_F_ALLOW_MULTI, sys.BPF_F_ALLOW_OVERRIDE} {
		t.Run(fmt.Sprintf("flags=%d", flags), func(t *testing.T) {
			f, err := os.Open(cg)
			qt.Assert(t, qt.IsNil(err))
			pa, err := newProgAttachCgroup(f, ebpf.AttachCGroupInetEgress, prog, flags)
			if err != nil {
				f.Close()
			}
			qt.Assert(t, qt.IsNil(err))
			keep(t, pa)

			obj.reset("egress_count")
			udpRoundTrip(t)
			qt.Assert(t, qt.IsTrue(obj.counter("egress_count") >= 1))
			res, err := QueryPrograms(QueryOptions{Target: cgroupFD(t, cg), Attach: ebpf.AttachCGroupInetEgress})
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.HasLen(res.Programs, 1))
			_, hasLink := res.Programs[0].LinkID()
			qt.Assert(t, qt.IsFalse(hasLink))

			qt.Assert(t, qt.IsNil(pa.Update(other)))
			before, otherBefore := obj.counter("egress_count"), count(t, m)
			udpRoundTrip(t)
			qt.Assert(t, qt.Equals(obj.counter("egress_count"), before))
			qt.Assert(t, qt.IsTrue(count(t, m) > otherBefore))
			res, err = QueryPrograms(QueryOptions{Target: cgroupFD(t, cg), Attach: ebpf.AttachCGroupInetEgress})
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.HasLen(res.Programs, 1))

			qt.Assert(t, qt.ErrorIs(pa.Pin("x"), ErrNotSupported))
			qt.Assert(t, qt.ErrorIs(pa.Unpin(), ErrNotSupported))
			qt.Assert(t, qt.ErrorIs(pa.Detach(), ErrNotSupported))
			_, err = pa.Info()
			qt.Assert(t, qt.ErrorIs(err, ErrNotSupported))

			mustClose(t, pa)
			mustClose(t, pa) // twice is harmless
			res, err = QueryPrograms(QueryOptions{Target: cgroupFD(t, cg), Attach: ebpf.AttachCGroupInetEgress})
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.HasLen(res.Programs, 0))
		})
	}
}

func TestCgroupErrors(t *testing.T) {
	obj := loadObject(t, "link_cgroup")
	prog := obj.program("skb_egress")

	_, err := AttachCgroup(CgroupOptions{Path: "/bpfkit/no/such/cgroup", Attach: ebpf.AttachCGroupInetEgress, Program: prog})
	qt.Assert(t, qt.ErrorIs(err, os.ErrNotExist))
	_, err = AttachCgroup(CgroupOptions{Path: cgroup2Root(t), Attach: ebpf.AttachCGroupInetEgress})
	qt.Assert(t, qt.IsNotNil(err))
	// A cgroup v1 directory or a plain directory is not a cgroup v2.
	_, err = AttachCgroup(CgroupOptions{Path: t.TempDir(), Attach: ebpf.AttachCGroupInetEgress, Program: prog})
	qt.Assert(t, qt.IsNotNil(err))
	// The attach type must match the program's.
	_, err = AttachCgroup(CgroupOptions{Path: cgroup2Root(t), Attach: ebpf.AttachCGroupSysctl, Program: prog})
	qt.Assert(t, qt.IsNotNil(err))
}

// openFiles counts this process's open descriptors.
func openFiles(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	qt.Assert(t, qt.IsNil(err))
	return len(entries)
}

// faultWalk fails the n-th bpf(2) call made by attach, for n = 1, 2, ...
// until attach makes no more calls, and checks after each failure that
// attach returned an error wrapping the injected errno and left no file
// descriptor open. clean runs after each failure for extra checks.
func faultWalk(t *testing.T, attach func() (Link, error), clean func()) {
	t.Helper()
	for n := 1; ; n++ {
		fdsBefore := openFiles(t)
		done := testutils.CheckNoOpenFDs(t)
		hit := false
		restore := sys.InjectFaults(func(cmd sys.Cmd, i int) error {
			if i == n {
				hit = true
				return unix.ENOMEM
			}
			return nil
		})
		l, err := attach()
		restore()
		if !hit {
			qt.Assert(t, qt.IsNil(err))
			mustClose(t, l)
			done()
			t.Logf("%d bpf(2) calls walked", n-1)
			return
		}
		qt.Assert(t, qt.ErrorIs(err, unix.ENOMEM), qt.Commentf("call %d", n))
		qt.Assert(t, qt.IsNil(l))
		done()
		qt.Assert(t, qt.Equals(openFiles(t), fdsBefore), qt.Commentf("call %d left a descriptor open", n))
		if clean != nil {
			clean()
		}
		if n > 100 {
			t.Fatal("more than 100 bpf(2) calls")
		}
	}
}

func TestCgroupFaults(t *testing.T) {
	cg := testCgroup(t)
	obj := loadObject(t, "link_cgroup")
	prog := obj.program("skb_egress")
	// Run the memoized probes now: a fault must not be taken for a
	// missing feature.
	qt.Assert(t, qt.IsNil(haveBPFLink()))

	nothingAttached := func() {
		res, err := QueryPrograms(QueryOptions{Target: cgroupFD(t, cg), Attach: ebpf.AttachCGroupInetEgress})
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.HasLen(res.Programs, 0))
	}
	t.Run("link", func(t *testing.T) {
		faultWalk(t, func() (Link, error) {
			return AttachCgroup(CgroupOptions{Path: cg, Attach: ebpf.AttachCGroupInetEgress, Program: prog})
		}, nothingAttached)
	})
	t.Run("legacy", func(t *testing.T) {
		faultWalk(t, func() (Link, error) {
			f, err := os.Open(cg)
			if err != nil {
				return nil, err
			}
			pa, err := attachCgroupLegacy(f, ebpf.AttachCGroupInetEgress, prog)
			if err != nil {
				f.Close()
				return nil, err
			}
			return pa, nil
		}, nothingAttached)
	})
}
