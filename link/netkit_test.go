package link

import (
	"errors"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// Attributes of a netkit device (linux/if_link.h, 6.7; Debian's 6.1
// headers lack them).
const (
	iflaNetkitPeerInfo = 1
	iflaNetkitMode     = 5
	netkitL3           = 1
)

// newNetkit creates a netkit pair primary/peer in L3 mode and brings both
// up.
func newNetkit(t testing.TB, primary, peer string) error {
	t.Helper()
	peerInfo := append(make([]byte, unix.SizeofIfInfomsg), nlattr(unix.IFLA_IFNAME, append([]byte(peer), 0))...)
	data := append(nlattr(iflaNetkitPeerInfo, peerInfo), nlattr(iflaNetkitMode, u32(netkitL3))...)
	if err := newLink(primary, "netkit", data); err != nil {
		return err
	}
	for _, name := range []string{primary, peer} {
		if err := setUp(name); err != nil {
			return err
		}
	}
	return nil
}

func u32(v uint32) []byte {
	b := make([]byte, 4)
	internal.NativeEndian.PutUint32(b, v)
	return b
}

// ipv4UDP is a minimal IPv4/UDP packet 10.0.0.1:1 -> 10.0.0.2:2.
var ipv4UDP = []byte{
	0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
	0, 1, 0, 2, 0, 8, 0, 0,
}

func TestNetkit(t *testing.T) {
	obj := loadObject(t, "link_net")
	primary := obj.program("netkit_primary")
	peer := obj.program("netkit_peer")

	inNetns(t, func(int) {
		err := newNetkit(t, "bpfkitnk0", "bpfkitnk1")
		if errors.Is(err, ErrNotSupported) {
			// The kernel can't make netkit devices: AttachNetkit must say
			// why too.
			_, aerr := AttachNetkit(NetkitOptions{Interface: ifindex(t, "lo"), Program: primary, Attach: ebpf.AttachNetkitPrimary})
			qt.Assert(t, qt.ErrorIs(aerr, ErrNotSupported))
			testutils.SkipIfNotSupported(t, aerr)
		}
		qt.Assert(t, qt.IsNil(err))
		nk := ifindex(t, "bpfkitnk0")

		lp, err := AttachNetkit(NetkitOptions{Interface: nk, Program: primary, Attach: ebpf.AttachNetkitPrimary})
		qt.Assert(t, qt.IsNil(err))
		keep(t, lp)
		lq, err := AttachNetkit(NetkitOptions{Interface: nk, Program: peer, Attach: ebpf.AttachNetkitPeer, Anchor: Head()})
		qt.Assert(t, qt.IsNil(err))
		keep(t, lq)

		sendRaw(t, "bpfkitnk0", unix.ETH_P_IP, ipv4UDP)
		qt.Assert(t, qt.IsTrue(obj.counter("netkit_primary_count") >= 1))
		sendRaw(t, "bpfkitnk1", unix.ETH_P_IP, ipv4UDP)
		qt.Assert(t, qt.IsTrue(obj.counter("netkit_peer_count") >= 1))

		info, err := lp.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.Type, NetkitType))
		qt.Assert(t, qt.DeepEquals(info.Netkit(), &NetkitInfo{Ifindex: uint32(nk), AttachType: ebpf.AttachNetkitPrimary}))
		res, err := QueryPrograms(QueryOptions{Target: nk, Attach: ebpf.AttachNetkitPrimary})
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.HasLen(res.Programs, 1))
		qt.Assert(t, qt.IsTrue(res.HaveLinkInfo()))

		pinAndReload(t, lp)
		qt.Assert(t, qt.IsNil(lp.Detach()))
		before := obj.counter("netkit_primary_count")
		sendRaw(t, "bpfkitnk0", unix.ETH_P_IP, ipv4UDP)
		qt.Assert(t, qt.Equals(obj.counter("netkit_primary_count"), before))
		mustClose(t, lp)
		mustClose(t, lq)
	})
}
