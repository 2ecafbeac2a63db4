// Command xdp_live_frame sends UDP packets out of an interface at high
// speed without sockets: BPF_PROG_TEST_RUN in live frame mode (Linux 5.18)
// runs an XDP program on a packet built in Go, many times, and transmits
// each frame the program returns XDP_TX for.
//
//	go run -exec sudo ./examples/xdp_live_frame -iface eth0 -dst-mac 02:00:00:00:00:02 -dst-ip 192.0.2.2 -count 1000
//
// It shows Program.Run with BPF_F_TEST_XDP_LIVE_FRAMES, Repeat and
// BatchSize, a context struct that bpf2go declared from the object's BTF
// (-type xdp_md), and global variables read after the run.
package main
