package link

import (
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf"
)

func TestNetfilter(t *testing.T) {
	obj := loadObject(t, "link_netfilter")
	prog := obj.program("nf_accept")

	inNetns(t, func(int) {
		opts := NetfilterOptions{
			Program:        prog,
			ProtocolFamily: NetfilterProtoIPv4,
			Hook:           NetfilterInetLocalOut,
			Priority:       -128,
		}
		l, err := AttachNetfilter(opts)
		skipUnlessSupported(t, err)
		keep(t, l)
		udpRoundTrip(t)
		qt.Assert(t, qt.IsTrue(obj.counter("nf_count") >= 1))

		info, err := l.Info()
		qt.Assert(t, qt.IsNil(err))
		qt.Assert(t, qt.Equals(info.Type, NetfilterType))
		qt.Assert(t, qt.DeepEquals(info.Netfilter(), &NetfilterInfo{
			ProtocolFamily: NetfilterProtoIPv4, Hook: NetfilterInetLocalOut, Priority: -128,
		}))
		qt.Assert(t, qt.ErrorIs(l.Update(prog), ErrNotSupported))
		pinAndReload(t, l)
		qt.Assert(t, qt.IsNil(l.Detach()))
		before := obj.counter("nf_count")
		udpRoundTrip(t)
		qt.Assert(t, qt.Equals(obj.counter("nf_count"), before))
		mustClose(t, l)

		// Defragmentation (6.6) needs a priority after the defrag hook.
		opts.NetfilterFlags = NetfilterIPDefrag
		l, err = AttachNetfilter(opts)
		if err != nil {
			t.Logf("IP defrag flag: %v", err)
		} else {
			keep(t, l)
			info, err := l.Info()
			qt.Assert(t, qt.IsNil(err))
			qt.Assert(t, qt.Equals(info.Netfilter().Flags, uint32(NetfilterIPDefrag)))
			mustClose(t, l)
		}
	})
}

func TestNetfilterErrors(t *testing.T) {
	obj := loadObject(t, "link_netfilter")
	prog := obj.program("nf_accept")
	xdp := loadObject(t, "link_net").program("xdp_pass")

	_, err := AttachNetfilter(NetfilterOptions{Program: xdp, ProtocolFamily: NetfilterProtoIPv4})
	qt.Assert(t, qt.ErrorMatches(err, `.*want Netfilter`))
	_, err = AttachNetfilter(NetfilterOptions{})
	qt.Assert(t, qt.IsNotNil(err))
	// Families other than IPv4/IPv6 and reserved priorities are refused.
	_, err = AttachNetfilter(NetfilterOptions{Program: prog, ProtocolFamily: NetfilterProtoARP, Hook: NetfilterInetLocalOut})
	qt.Assert(t, qt.IsNotNil(err))
	_, err = AttachNetfilter(NetfilterOptions{Program: prog, ProtocolFamily: NetfilterProtoIPv4, Hook: NetfilterInetLocalOut, Priority: -1 << 31})
	qt.Assert(t, qt.IsNotNil(err))
	_ = ebpf.Netfilter
}
