package main

//go:generate go tool bpf2go -tags linux -type xdp_md bpf xdp.c -- -I../headers -nostdinc -Wall -Werror

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/link"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "xdp_live_frame:", err)
		os.Exit(1)
	}
}

func run() error {
	ifaceName := flag.String("iface", "", "interface to send from")
	dstMAC := flag.String("dst-mac", "ff:ff:ff:ff:ff:ff", "destination MAC address")
	srcIP := flag.String("src-ip", "192.0.2.1", "source IPv4 address")
	dstIP := flag.String("dst-ip", "192.0.2.2", "destination IPv4 address")
	port := flag.Uint("port", 9, "destination UDP port")
	count := flag.Uint("count", 1000, "packets to send")
	flag.Parse()

	iface, err := net.InterfaceByName(*ifaceName)
	if err != nil {
		return err
	}
	dst, err := net.ParseMAC(*dstMAC)
	if err != nil {
		return err
	}
	src, err := netip.ParseAddr(*srcIP)
	if err != nil {
		return err
	}
	to, err := netip.ParseAddr(*dstIP)
	if err != nil {
		return err
	}

	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()

	l, err := link.AttachXDP(link.XDPOptions{Program: objs.Pass, Interface: iface.Index})
	if err != nil {
		return fmt.Errorf("attach to %s: %w", iface.Name, err)
	}
	defer l.Close()

	packet := udpPacket(iface.HardwareAddr, dst, src, to, uint16(*port), []byte("hello from XDP"))
	// The frame "arrives" on iface, so XDP_TX sends it out of iface.
	xdpCtx := bpfXdpMd{DataEnd: uint32(len(packet)), IngressIfindex: uint32(iface.Index)}
	_, err = objs.Transmit.Run(&ebpf.RunOptions{
		Data:      packet,
		Context:   &xdpCtx,
		Repeat:    uint32(*count),
		Flags:     unix.BPF_F_TEST_XDP_LIVE_FRAMES,
		BatchSize: 64,
	})
	if err != nil {
		return fmt.Errorf("run in live frame mode: %w", err)
	}
	var sent uint64
	if err := objs.Transmitted.Get(&sent); err != nil {
		return err
	}
	fmt.Printf("sent %d packets of %d bytes to %s port %d on %s\n", sent, len(packet), to, *port, iface.Name)
	return nil
}

// udpPacket builds an Ethernet frame holding an IPv4 UDP datagram.
func udpPacket(srcMAC, dstMAC net.HardwareAddr, src, dst netip.Addr, port uint16, payload []byte) []byte {
	const ethLen, ipLen, udpLen = 14, 20, 8
	p := make([]byte, ethLen+ipLen+udpLen+len(payload))
	copy(p[0:6], dstMAC)
	copy(p[6:12], srcMAC)
	binary.BigEndian.PutUint16(p[12:], unix.ETH_P_IP)

	ip := p[ethLen:]
	ip[0] = 0x45 // version 4, 5 words of header
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen+udpLen+len(payload)))
	ip[8] = 64 // TTL
	ip[9] = unix.IPPROTO_UDP
	s, d := src.As4(), dst.As4()
	copy(ip[12:16], s[:])
	copy(ip[16:20], d[:])
	binary.BigEndian.PutUint16(ip[10:], checksum(ip[:ipLen]))

	udp := ip[ipLen:]
	binary.BigEndian.PutUint16(udp[0:], 40000) // source port
	binary.BigEndian.PutUint16(udp[2:], port)
	binary.BigEndian.PutUint16(udp[4:], uint16(udpLen+len(payload)))
	// A zero UDP checksum means "none" over IPv4.
	copy(udp[udpLen:], payload)
	return p
}

// checksum is the Internet checksum (RFC 1071) of b.
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
