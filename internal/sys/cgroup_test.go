package sys

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"
)

// tempCgroup makes a cgroup v2 directory for the test and returns an open
// descriptor of it; both go away when the test ends.
func tempCgroup(t *testing.T) int {
	t.Helper()
	requireBPF(t)
	mounts, err := os.Open("/proc/self/mountinfo")
	qt.Assert(t, qt.IsNil(err))
	defer mounts.Close()
	root := ""
	sc := bufio.NewScanner(mounts)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		for i := range f {
			if f[i] == "-" && i+1 < len(f) && f[i+1] == "cgroup2" {
				root = f[4]
			}
		}
	}
	if root == "" {
		t.Skip("cgroup attachment needs a cgroup2 mount; none found")
	}
	dir, err := os.MkdirTemp(root, "sys-test-")
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { os.Remove(dir) })
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func progID(t *testing.T, fd *FD) uint32 {
	t.Helper()
	var info ProgInfo
	qt.Assert(t, qt.IsNil(ObjInfo(fd, &info)))
	return info.Id
}

func query(t *testing.T, cg int) []uint32 {
	t.Helper()
	ids := make([]uint32, 4)
	attr := ProgQueryAttr{TargetFd: uint32(cg), AttachType: BPF_CGROUP_INET_INGRESS, ProgIds: NewSlicePointer(ids), Count: 4}
	qt.Assert(t, qt.IsNil(ProgQuery(&attr)))
	return ids[:attr.Count]
}

func TestCgroupProgAttach(t *testing.T) {
	cg := tempCgroup(t)
	prog := loadProg(t, BPF_PROG_TYPE_CGROUP_SKB, retInsns(1), "sys_cg_attach")

	attach := ProgAttachAttr{TargetFd: uint32(cg), AttachBpfFd: prog.Uint(), AttachType: BPF_CGROUP_INET_INGRESS, AttachFlags: BPF_F_ALLOW_MULTI}
	qt.Assert(t, qt.IsNil(ProgAttach(&attach)))
	qt.Check(t, qt.DeepEquals(query(t, cg), []uint32{progID(t, prog)}))

	detach := ProgDetachAttr{TargetFd: uint32(cg), AttachBpfFd: prog.Uint(), AttachType: BPF_CGROUP_INET_INGRESS}
	qt.Assert(t, qt.IsNil(ProgDetach(&detach)))
	qt.Check(t, qt.HasLen(query(t, cg), 0))
	qt.Check(t, qt.ErrorIs(ProgDetach(&detach), unix.ENOENT))
}

func TestCgroupLink(t *testing.T) {
	cg := tempCgroup(t)
	first := loadProg(t, BPF_PROG_TYPE_CGROUP_SKB, retInsns(1), "sys_cg_first")
	second := loadProg(t, BPF_PROG_TYPE_CGROUP_SKB, retInsns(1), "sys_cg_second")

	link, err := LinkCreate(&LinkCreateAttr{ProgFd: first.Uint(), TargetFd: uint32(cg), AttachType: BPF_CGROUP_INET_INGRESS})
	qt.Assert(t, qt.IsNil(err))
	defer link.Close()
	qt.Check(t, qt.DeepEquals(query(t, cg), []uint32{progID(t, first)}))

	var info CgroupLinkInfo
	qt.Assert(t, qt.IsNil(ObjInfo(link, &info)))
	qt.Check(t, qt.Equals(info.Type, BPF_LINK_TYPE_CGROUP))
	qt.Check(t, qt.Equals(info.AttachType, BPF_CGROUP_INET_INGRESS))
	qt.Check(t, qt.Equals(info.ProgId, progID(t, first)))
	qt.Check(t, qt.Not(qt.Equals(info.CgroupId, uint64(0))))

	// Replacing with the wrong expected program fails; with the right
	// one it swaps the program in place.
	wrong := LinkUpdateAttr{LinkFd: link.Uint(), NewProgFd: second.Uint(), Flags: BPF_F_REPLACE, OldProgFd: second.Uint()}
	qt.Check(t, qt.ErrorIs(LinkUpdate(&wrong), unix.EPERM))
	update := LinkUpdateAttr{LinkFd: link.Uint(), NewProgFd: second.Uint(), Flags: BPF_F_REPLACE, OldProgFd: first.Uint()}
	qt.Assert(t, qt.IsNil(LinkUpdate(&update)))
	qt.Check(t, qt.DeepEquals(query(t, cg), []uint32{progID(t, second)}))

	qt.Assert(t, qt.IsNil(LinkDetach(&LinkDetachAttr{LinkFd: link.Uint()})))
	qt.Check(t, qt.HasLen(query(t, cg), 0))
	// The link outlives its attachment; its info says so.
	qt.Assert(t, qt.IsNil(ObjInfo(link, &info)))
	qt.Check(t, qt.Equals(info.CgroupId, uint64(0)))
}
