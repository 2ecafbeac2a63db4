package main

//go:generate go tool bpf2go -tags linux bpf tcprtt_sockops.c -- -I../headers -nostdinc -Wall -Werror

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/link"
	"github.com/bpfkit/ebpf/ringbuf"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tcprtt_sockops:", err)
		os.Exit(1)
	}
}

func run() error {
	cgroup := flag.String("cgroup", "", "cgroup v2 directory to watch (default: the root of the cgroup v2 hierarchy)")
	flag.Parse()
	if *cgroup == "" {
		root, err := cgroup2Root()
		if err != nil {
			return err
		}
		*cgroup = root
	}

	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()

	l, err := link.AttachCgroup(link.CgroupOptions{
		Path:    *cgroup,
		Attach:  ebpf.AttachCGroupSockOps,
		Program: objs.ReportRtt,
	})
	if err != nil {
		return err
	}
	defer l.Close()

	rd, err := ringbuf.NewReader(objs.RttEvents)
	if err != nil {
		return err
	}
	defer rd.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		rd.Close()
	}()

	fmt.Printf("Reporting RTTs of TCP connections in %s; Ctrl-C to stop.\n", *cgroup)
	for {
		rec, err := rd.Read()
		if errors.Is(err, ringbuf.ErrClosed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		var ev bpfRttEvent
		if err := binary.Read(bytes.NewReader(rec.RawSample), binary.NativeEndian, &ev); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		fmt.Printf("%s:%d -> %s:%d srtt %dus\n", ipv4(ev.Saddr), ev.Sport, ipv4(ev.Daddr), ev.Dport, ev.SrttUs)
	}
}

// ipv4 is an address as the kernel stores it: in network byte order, read
// as a native integer.
func ipv4(addr uint32) netip.Addr {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], addr)
	return netip.AddrFrom4(b)
}

// cgroup2Root is where the cgroup v2 hierarchy is mounted.
func cgroup2Root() (string, error) {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		if fields := strings.Fields(line); len(fields) > 2 && fields[2] == "cgroup2" {
			return fields[1], nil
		}
	}
	return "", errors.New("no cgroup v2 file system mounted")
}
