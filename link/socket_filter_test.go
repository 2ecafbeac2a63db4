package link

import (
	"net"
	"testing"

	"github.com/go-quicktest/qt"
	"golang.org/x/sys/unix"
)

func TestSocketFilter(t *testing.T) {
	obj := loadObject(t, "link_socket")
	prog := obj.program("count_packets")

	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	qt.Assert(t, qt.IsNil(err))
	defer srv.Close()
	cl, err := net.DialUDP("udp4", nil, srv.LocalAddr().(*net.UDPAddr))
	qt.Assert(t, qt.IsNil(err))
	defer cl.Close()

	qt.Assert(t, qt.IsNil(AttachSocketFilter(srv, prog)))
	buf := make([]byte, 16)
	for range 3 {
		_, err := cl.Write([]byte("bpfkit"))
		qt.Assert(t, qt.IsNil(err))
		n, err := srv.Read(buf)
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(string(buf[:n]), "bpfkit"))
	}
	qt.Assert(t, qt.Equals(obj.counter("packet_count"), 3))

	qt.Assert(t, qt.IsNil(DetachSocketFilter(srv)))
	_, err = cl.Write([]byte("bpfkit"))
	qt.Assert(t, qt.IsNil(err))
	_, err = srv.Read(buf)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(obj.counter("packet_count"), 3))

	// No filter left to detach.
	qt.Assert(t, qt.ErrorIs(DetachSocketFilter(srv), unix.ENOENT))
	qt.Assert(t, qt.IsNotNil(AttachSocketFilter(srv, nil)))
}
