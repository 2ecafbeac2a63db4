package link

import (
	"os"
	"strings"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal/testutils"
)

func congestionControls(t testing.TB) []string {
	t.Helper()
	raw, err := os.ReadFile("/proc/sys/net/ipv4/tcp_available_congestion_control")
	qt.Assert(t, qt.IsNil(err))
	return strings.Fields(string(raw))
}

func TestStructOps(t *testing.T) {
	testutils.RequireRoot(t)
	spec := loadObject(t, "struct_ops").spec
	// Only the link-based map: the other registers itself on load.
	delete(spec.Maps, "bpfkit_cc")
	coll, err := ebpf.NewCollection(spec)
	if !kernelAtLeast(t, "6.4") {
		// Maps of ".struct_ops.link" sections need BPF_F_LINK for
		// struct_ops maps, which came with the links.
		qt.Assert(t, qt.ErrorIs(err, ebpf.ErrNotSupported))
		qt.Assert(t, qt.ErrorMatches(err, `map "bpfkit_cc_link": create: struct_ops maps with BPF_F_LINK not supported \(requires >= v6\.4\)`))
		return
	}
	qt.Assert(t, qt.IsNil(err))
	defer coll.Close()
	m := coll.Maps["bpfkit_cc_link"]
	qt.Assert(t, qt.IsNotNil(m))
	qt.Assert(t, qt.Not(qt.SliceContains(congestionControls(t), "bpfkit_link")))

	l, err := AttachStructOps(StructOpsOptions{Map: m})
	skipUnlessSupported(t, err)
	keep(t, l)
	// Registered: TCP offers the congestion control while the link lives.
	qt.Assert(t, qt.SliceContains(congestionControls(t), "bpfkit_link"))

	info, err := l.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, StructOpsType))
	mi, err := m.Info()
	qt.Assert(t, qt.IsNil(err))
	id, _ := mi.ID()
	qt.Assert(t, qt.DeepEquals(info.StructOps(), &StructOpsInfo{MapID: uint32(id)}))
	qt.Assert(t, qt.ErrorIs(l.Update(nil), ErrNotSupported))
	pinAndReload(t, l)
	mustClose(t, l)
	qt.Assert(t, qt.Not(qt.SliceContains(congestionControls(t), "bpfkit_link")))
}

func TestStructOpsErrors(t *testing.T) {
	testutils.RequireRoot(t)
	_, err := AttachStructOps(StructOpsOptions{})
	qt.Assert(t, qt.IsNotNil(err))
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	qt.Assert(t, qt.IsNil(err))
	defer m.Close()
	_, err = AttachStructOps(StructOpsOptions{Map: m})
	qt.Assert(t, qt.ErrorMatches(err, `.*want StructOpsMap`))
}
