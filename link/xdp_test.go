package link

import (
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
)

func TestXDP(t *testing.T) {
	obj := loadObject(t, "link_net")
	prog := obj.program("xdp_pass")
	other, m := counterProgram(t, ebpf.XDP, ebpf.AttachXDP, 2) // XDP_PASS

	inNetns(t, func(int) {
		lo := ifindex(t, "lo")
		l, err := AttachXDP(XDPOptions{Program: prog, Interface: lo, Flags: XDPGenericMode})
		qt.Assert(t, qt.IsNil(err))
		keep(t, l)
		udpRoundTrip(t)
		qt.Assert(t, qt.IsTrue(obj.counter("xdp_count") >= 1))

		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.Type, XDPType))
		qt.Assert(t, qt.DeepEquals(info.XDP(), &XDPInfo{Ifindex: uint32(lo)}))

		// One XDP link per device and mode.
		_, err = AttachXDP(XDPOptions{Program: prog, Interface: lo, Flags: XDPGenericMode})
		qt.Assert(t, qt.IsNotNil(err))

		qt.Assert(t, qt.IsNil(l.Update(other)))
		before := obj.counter("xdp_count")
		udpRoundTrip(t)
		qt.Assert(t, qt.Equals(obj.counter("xdp_count"), before))
		qt.Assert(t, qt.IsTrue(count(t, m) >= 1))

		pinAndReload(t, l)
		qt.Assert(t, qt.IsNil(l.Detach()))
		n := count(t, m)
		udpRoundTrip(t)
		qt.Assert(t, qt.Equals(count(t, m), n))
		mustClose(t, l)
	})
}

func TestXDPErrors(t *testing.T) {
	obj := loadObject(t, "link_net")
	prog := obj.program("xdp_pass")
	tc := obj.program("tc_cls")

	_, err := AttachXDP(XDPOptions{Program: tc, Interface: 1})
	qt.Assert(t, qt.ErrorMatches(err, `.*want XDP`))
	_, err = AttachXDP(XDPOptions{Program: prog, Interface: 0})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachXDP(XDPOptions{Interface: 1})
	qt.Assert(t, qt.IsNotNil(err))
	// No such device.
	_, err = AttachXDP(XDPOptions{Program: prog, Interface: 1 << 30})
	qt.Assert(t, qt.IsNotNil(err))
}
