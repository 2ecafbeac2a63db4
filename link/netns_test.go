package link

import (
	"net"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
)

// tcpConnect connects to a TCP listener on 127.0.0.1.
func tcpConnect(t testing.TB) {
	t.Helper()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	qt.Assert(t, qt.IsNil(err))
	defer ln.Close()
	c, err := net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	qt.Assert(t, qt.IsNil(err))
	c.Close()
}

func netnsInode(t testing.TB, ns int) uint32 {
	t.Helper()
	var st unix.Stat_t
	qt.Assert(t, qt.IsNil(unix.Fstat(ns, &st)))
	return uint32(st.Ino)
}

func TestSkLookup(t *testing.T) {
	obj := loadObject(t, "link_socket")
	prog := obj.program("lookup")
	other, m := counterProgram(t, ebpf.SkLookup, ebpf.AttachSkLookup, 1) // SK_PASS

	inNetns(t, func(ns int) {
		l, err := AttachNetNs(ns, prog)
		qt.Assert(t, qt.IsNil(err))
		keep(t, l)
		tcpConnect(t)
		qt.Assert(t, qt.IsTrue(obj.counter("lookup_count") >= 1))

		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.Type, NetNsType))
		qt.Assert(t, qt.DeepEquals(info.NetNs(), &NetNsInfo{NetnsInode: netnsInode(t, ns), AttachType: ebpf.AttachSkLookup}))

		qt.Assert(t, qt.IsNil(l.Update(other)))
		before := obj.counter("lookup_count")
		udpRoundTrip(t)
		qt.Assert(t, qt.Equals(obj.counter("lookup_count"), before))
		qt.Assert(t, qt.IsTrue(count(t, m) >= 1))

		pinAndReload(t, l)
		qt.Assert(t, qt.IsNil(l.Detach()))
		n := count(t, m)
		udpRoundTrip(t)
		qt.Assert(t, qt.Equals(count(t, m), n))
		mustClose(t, l)
	})
}

// dissect makes the kernel dissect a packet: sending through a packet
// socket probes the transport header with the flow dissector of the
// device's namespace.
func dissect(t testing.TB) {
	t.Helper()
	sendRaw(t, "lo", unix.ETH_P_IP, ipv4UDP)
}

func TestFlowDissector(t *testing.T) {
	obj := loadObject(t, "link_flow_dissector")
	prog := obj.program("dissect")

	inNetns(t, func(ns int) {
		l, err := AttachNetNs(ns, prog)
		qt.Assert(t, qt.IsNil(err))
		keep(t, l)
		dissect(t)
		qt.Assert(t, qt.IsTrue(obj.counter("dissect_count") >= 1))

		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.NetNs().AttachType, ebpf.AttachFlowDissector))
		// One flow dissector per namespace.
		_, err = AttachNetNs(ns, prog)
		qt.Assert(t, qt.IsNotNil(err))
		pinAndReload(t, l)
		mustClose(t, l)
		before := obj.counter("dissect_count")
		dissect(t)
		qt.Assert(t, qt.Equals(obj.counter("dissect_count"), before))
	})
}

func TestNetNsErrors(t *testing.T) {
	obj := loadObject(t, "link_socket")
	filter := obj.program("count_packets")
	lookup := obj.program("lookup")

	_, err := AttachNetNs(0, filter)
	qt.Assert(t, qt.ErrorMatches(err, `.*want FlowDissector or SkLookup`))
	_, err = AttachNetNs(-1, lookup)
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachNetNs(0, nil)
	qt.Assert(t, qt.IsNotNil(err))
	// A descriptor that is not a network namespace.
	f := cgroupFD(t, t.TempDir())
	_, err = AttachNetNs(f, lookup)
	qt.Assert(t, qt.IsNotNil(err))
}
