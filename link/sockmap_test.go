package link

import (
	"net"
	"syscall"
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
)

// socketFD returns the descriptor of conn.
func socketFD(t testing.TB, conn syscall.Conn) uint64 {
	t.Helper()
	rc, err := conn.SyscallConn()
	qt.Assert(t, qt.IsNil(err))
	var fd uintptr
	qt.Assert(t, qt.IsNil(rc.Control(func(f uintptr) { fd = f })))
	return uint64(fd)
}

// tcpPair connects two TCP sockets over loopback.
func tcpPair(t testing.TB) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	qt.Assert(t, qt.IsNil(err))
	defer ln.Close()
	a, err := net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { a.Close() })
	b, err := ln.AcceptTCP()
	qt.Assert(t, qt.IsNil(err))
	t.Cleanup(func() { b.Close() })
	return a, b
}

// sockmapTraffic puts a connected TCP pair into sockMap and sends "hello"
// across; it must arrive.
func sockmapTraffic(t testing.TB, sockMap *ebpf.Map) {
	t.Helper()
	a, b := tcpPair(t)
	qt.Assert(t, qt.IsNil(sockMap.Update(uint32(0), socketFD(t, a), ebpf.UpdateAny)))
	qt.Assert(t, qt.IsNil(sockMap.Update(uint32(1), socketFD(t, b), ebpf.UpdateAny)))
	_, err := a.Write([]byte("hello"))
	qt.Assert(t, qt.IsNil(err))
	buf := make([]byte, 5)
	_, err = b.Read(buf)
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(string(buf), "hello"))
	qt.Assert(t, qt.IsNil(sockMap.Delete(uint32(0))))
	qt.Assert(t, qt.IsNil(sockMap.Delete(uint32(1))))
}

// TestSockmapRawAttach attaches sk_skb and sk_msg programs to a sockmap
// with BPF_PROG_ATTACH, the way that works since 4.14.
func TestSockmapRawAttach(t *testing.T) {
	obj := loadObject(t, "link_sockmap")
	sockMap := obj.mapByName("sock_map")
	progs := map[string]ebpf.AttachType{
		"parser":      ebpf.AttachSkSKBStreamParser,
		"verdict":     ebpf.AttachSkSKBStreamVerdict,
		"msg_verdict": ebpf.AttachSkMsgVerdict,
	}
	loaded := map[string]*ebpf.Program{}
	for _, name := range []string{"parser", "verdict", "msg_verdict"} {
		loaded[name] = obj.program(name)
		opts := RawAttachProgramOptions{Target: sockMap.FD(), Program: loaded[name], Attach: progs[name]}
		qt.Assert(t, qt.IsNil(RawAttachProgram(opts)))
		t.Cleanup(func() { RawDetachProgram(RawDetachProgramOptions(opts)) })
	}
	sockmapTraffic(t, sockMap)
	qt.Assert(t, qt.IsTrue(obj.counter("msg_count") >= 1))
	qt.Assert(t, qt.IsTrue(obj.counter("parser_count") >= 1))
	qt.Assert(t, qt.IsTrue(obj.counter("verdict_count") >= 1))

	for _, name := range []string{"parser", "verdict", "msg_verdict"} {
		opts := RawDetachProgramOptions{Target: sockMap.FD(), Program: loaded[name], Attach: progs[name]}
		qt.Assert(t, qt.IsNil(RawDetachProgram(opts)))
	}
	// Twice is an error: nothing is attached.
	err := RawDetachProgram(RawDetachProgramOptions{Target: sockMap.FD(), Program: loaded["verdict"], Attach: ebpf.AttachSkSKBStreamVerdict})
	qt.Assert(t, qt.IsNotNil(err))
	before := obj.counter("msg_count")
	sockmapTraffic(t, sockMap)
	qt.Assert(t, qt.Equals(obj.counter("msg_count"), before))
}

// TestSockmapLink attaches with sockmap links (6.10).
func TestSockmapLink(t *testing.T) {
	obj := loadObject(t, "link_sockmap")
	sockMap := obj.mapByName("sock_map")

	lmsg, err := AttachSockmap(SockmapOptions{Map: sockMap, Program: obj.program("msg_verdict"), Attach: ebpf.AttachSkMsgVerdict})
	skipUnlessSupported(t, err)
	keep(t, lmsg)
	lparser, err := AttachSockmap(SockmapOptions{Map: sockMap, Program: obj.program("parser"), Attach: ebpf.AttachSkSKBStreamParser})
	qt.Assert(t, qt.IsNil(err))
	keep(t, lparser)
	lverdict, err := AttachSockmap(SockmapOptions{Map: sockMap, Program: obj.program("verdict"), Attach: ebpf.AttachSkSKBStreamVerdict})
	qt.Assert(t, qt.IsNil(err))
	keep(t, lverdict)

	sockmapTraffic(t, sockMap)
	qt.Assert(t, qt.IsTrue(obj.counter("msg_count") >= 1))
	qt.Assert(t, qt.IsTrue(obj.counter("parser_count") >= 1))
	qt.Assert(t, qt.IsTrue(obj.counter("verdict_count") >= 1))

	info, err := lmsg.Info()
	qt.Assert(t, qt.IsNil(err))
	qt.Assert(t, qt.Equals(info.Type, SockmapType))
	minfo, err := sockMap.Info()
	qt.Assert(t, qt.IsNil(err))
	id, _ := minfo.ID()
	qt.Assert(t, qt.DeepEquals(info.Sockmap(), &SockmapInfo{MapID: uint32(id), AttachType: ebpf.AttachSkMsgVerdict}))
	pinAndReload(t, lmsg)

	mustClose(t, lmsg)
	mustClose(t, lparser)
	mustClose(t, lverdict)
	before := obj.counter("msg_count")
	sockmapTraffic(t, sockMap)
	qt.Assert(t, qt.Equals(obj.counter("msg_count"), before))

	_, err = AttachSockmap(SockmapOptions{Map: obj.mapByName(".bss"), Program: obj.program("verdict"), Attach: ebpf.AttachSkSKBStreamVerdict})
	qt.Assert(t, qt.ErrorMatches(err, `.*want SockMap or SockHash`))
}
