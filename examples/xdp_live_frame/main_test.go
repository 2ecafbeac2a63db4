package main

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
	"github.com/bpfkit/ebpf/link"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

// TestXDPLiveFrame sends 100 packets from one end of a veth pair and
// receives them on the other with a packet socket. The receiving end gets
// an XDP program too: veth only transmits XDP frames to a peer with one.
func TestXDPLiveFrame(t *testing.T) {
	exampletest.InNetns(t, func() {
		exampletest.AddVeth(t, "live0", "live1")
		peer, err := net.InterfaceByName("live1")
		qt.Assert(t, qt.IsNil(err))

		var objs bpfObjects
		qt.Assert(t, qt.IsNil(loadBpfObjects(&objs, nil)))
		defer objs.Close()
		l, err := link.AttachXDP(link.XDPOptions{Program: objs.Pass, Interface: peer.Index})
		qt.Assert(t, qt.IsNil(err))
		defer l.Close()

		proto := htons(unix.ETH_P_ALL)
		s, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto))
		qt.Assert(t, qt.IsNil(err))
		defer unix.Close(s)
		qt.Assert(t, qt.IsNil(unix.Bind(s, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: peer.Index})))
		tv := unix.NsecToTimeval(int64(exampletest.Wait / time.Nanosecond))
		qt.Assert(t, qt.IsNil(unix.SetsockoptTimeval(s, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)))

		ex := exampletest.Start(t, "-iface", "live0", "-dst-mac", peer.HardwareAddr.String(), "-port", "4242", "-count", "100")
		out := ex.Wait()
		qt.Assert(t, qt.Matches(out, `sent 100 packets of 56 bytes to 192\.0\.2\.2 port 4242 on live0\n`))

		// At least one of them arrives, as sent.
		buf := make([]byte, 2048)
		for {
			n, _, err := unix.Recvfrom(s, buf, 0)
			qt.Assert(t, qt.IsNil(err), qt.Commentf("receive on live1"))
			if n == 56 && binary.BigEndian.Uint16(buf[14+20+2:]) == 4242 {
				qt.Assert(t, qt.Equals(string(buf[42:n]), "hello from XDP"))
				return
			}
		}
	})
}

// htons puts v in network byte order, as packet sockets take protocols.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}
