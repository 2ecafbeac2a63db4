package link

import (
	"encoding/binary"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// inNetns runs fn with the test's goroutine locked to a thread moved into
// a new network namespace whose loopback is up, so that programs attached
// to devices see only the test's traffic. Sockets fn opens belong to that
// namespace; fn must not start goroutines that use the network. netns is
// a descriptor of the namespace. fn may fail or skip the test: the thread
// goes back to its namespace in any case (or ends, if it can't).
func inNetns(t *testing.T, fn func(netns int)) {
	t.Helper()
	testutils.RequireRoot(t)
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer orig.Close()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("unshare network namespace: %v", err)
	}
	defer func() {
		// Only a thread back in its namespace may serve other
		// goroutines; otherwise it ends with this one.
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
	}()
	ns, err := os.Open("/proc/thread-self/ns/net")
	qt.Assert(t, qt.IsNil(err))
	defer ns.Close()
	qt.Assert(t, qt.IsNil(setUp("lo")), qt.Commentf("bring lo up"))
	fn(int(ns.Fd()))
}

// setUp sets IFF_UP on the interface name (ioctl SIOCSIFFLAGS).
func setUp(name string) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr)
}

// ifindex returns the index of the interface name.
func ifindex(t testing.TB, name string) int {
	t.Helper()
	iface, err := net.InterfaceByName(name)
	qt.Assert(t, qt.IsNil(err))
	return iface.Index
}

// newLink creates a network device with rtnetlink (RTM_NEWLINK): name of
// kind ("veth", "netkit", ...) with the kind's IFLA_INFO_DATA attributes
// already encoded. It returns an error wrapping ErrNotSupported when the
// kernel doesn't know the kind.
func newLink(name, kind string, data []byte) error {
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(s)

	linkinfo := nlattr(unix.IFLA_INFO_KIND, append([]byte(kind), 0))
	if data != nil {
		linkinfo = append(linkinfo, nlattr(unix.IFLA_INFO_DATA, data)...)
	}
	body := make([]byte, unix.SizeofIfInfomsg)
	body = append(body, nlattr(unix.IFLA_IFNAME, append([]byte(name), 0))...)
	body = append(body, nlattr(unix.IFLA_LINKINFO|unix.NLA_F_NESTED, linkinfo)...)

	hdr := unix.NlMsghdr{
		Len:   uint32(unix.SizeofNlMsghdr + len(body)),
		Type:  unix.RTM_NEWLINK,
		Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_CREATE | unix.NLM_F_EXCL,
		Seq:   1,
	}
	msg := append(unsafe.Slice((*byte)(unsafe.Pointer(&hdr)), unix.SizeofNlMsghdr), body...)
	if err := unix.Sendto(s, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(s, buf, 0)
	if err != nil {
		return err
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.Header.Type == unix.NLMSG_ERROR && len(m.Data) >= 4 {
			if code := int32(internal.NativeEndian.Uint32(m.Data)); code != 0 {
				errno := unix.Errno(-code)
				if errno == unix.EOPNOTSUPP {
					return &internal.UnsupportedFeatureError{Name: "network device kind " + kind}
				}
				return errno
			}
			return nil
		}
	}
	return nil
}

// nlattr encodes one netlink attribute, padded to 4 bytes.
func nlattr(typ uint16, value []byte) []byte {
	n := unix.SizeofRtAttr + len(value)
	b := make([]byte, (n+3)&^3)
	internal.NativeEndian.PutUint16(b[0:], uint16(n))
	internal.NativeEndian.PutUint16(b[2:], typ)
	copy(b[unix.SizeofRtAttr:], value)
	return b
}

// sendRaw transmits frame on the interface name through a packet socket,
// so that it leaves through the device whatever the routes say.
func sendRaw(t testing.TB, name string, proto uint16, frame []byte) {
	t.Helper()
	s, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	qt.Assert(t, qt.IsNil(err))
	defer unix.Close(s)
	addr := &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: ifindex(t, name)}
	qt.Assert(t, qt.IsNil(unix.Sendto(s, frame, 0, addr)))
}

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return internal.NativeEndian.Uint16(b[:])
}
