package exampletest

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/internal"
	"github.com/bpfkit/ebpf/internal/testutils"
)

// InNetns runs fn on a thread moved into a new network namespace whose
// loopback is up. Examples Start-ed in fn run in that namespace and see
// only the test's traffic; sockets fn opens belong to it. fn must not
// start goroutines that use the network.
func InNetns(t *testing.T, fn func()) {
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
		// A thread that can't go back ends with this goroutine.
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
	}()
	if err := SetUp("lo"); err != nil {
		t.Fatalf("bring lo up: %v", err)
	}
	fn()
}

// SetUp sets IFF_UP on the interface name.
func SetUp(name string) error {
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

// AddVeth creates the veth pair name and peer (RTM_NEWLINK) and brings
// both up.
func AddVeth(t *testing.T, name, peer string) {
	t.Helper()
	peerInfo := make([]byte, unix.SizeofIfInfomsg)
	peerInfo = append(peerInfo, nlattr(unix.IFLA_IFNAME, append([]byte(peer), 0))...)
	const vethInfoPeer = 1
	linkinfo := nlattr(unix.IFLA_INFO_KIND, []byte("veth\x00"))
	linkinfo = append(linkinfo, nlattr(unix.IFLA_INFO_DATA|unix.NLA_F_NESTED, nlattr(vethInfoPeer, peerInfo))...)
	body := make([]byte, unix.SizeofIfInfomsg)
	body = append(body, nlattr(unix.IFLA_IFNAME, append([]byte(name), 0))...)
	body = append(body, nlattr(unix.IFLA_LINKINFO|unix.NLA_F_NESTED, linkinfo)...)
	if err := rtnetlink(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body); err != nil {
		t.Fatalf("create veth %s/%s: %v", name, peer, err)
	}
	for _, n := range []string{name, peer} {
		if err := SetUp(n); err != nil {
			t.Fatalf("bring %s up: %v", n, err)
		}
	}
}

// rtnetlink sends one request and waits for its acknowledgement.
func rtnetlink(typ uint16, flags uint16, body []byte) error {
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	hdr := unix.NlMsghdr{
		Len:   uint32(unix.SizeofNlMsghdr + len(body)),
		Type:  typ,
		Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK | flags,
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
				return unix.Errno(-code)
			}
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

// SendUDP sends one datagram to 127.0.0.1:port from the calling thread
// (in its network namespace).
func SendUDP(t *testing.T, port int) {
	t.Helper()
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(s)
	err = unix.Sendto(s, []byte("ping"), 0, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
	if err != nil {
		t.Fatal(err)
	}
}

// OwnCgroup is the cgroup v2 directory of this process; the test skips
// when there is no cgroup v2 hierarchy.
func OwnCgroup(t *testing.T) string {
	t.Helper()
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	root := ""
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "cgroup2" {
			root = f[1]
			break
		}
	}
	if root == "" {
		t.Skip("no cgroup v2 file system mounted")
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(own), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			return filepath.Join(root, path)
		}
	}
	t.Skip("this process is in no cgroup v2 cgroup")
	return ""
}

// TCPExchange connects to 127.0.0.1 from the calling thread's network
// namespace, sends a few kilobytes to an echo server and reads them back,
// then closes both ends. It returns the client's local port and the
// server's port.
func TCPExchange(t *testing.T) (clientPort, serverPort int) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 4096)
	for range 4 {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, msg); err != nil {
			t.Fatal(err)
		}
	}
	return c.LocalAddr().(*net.TCPAddr).Port, ln.Addr().(*net.TCPAddr).Port
}
