package main

//go:generate go tool bpf2go -tags linux bpf xdp.c -- -I../headers -nostdinc -Wall -Werror

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/bpfkit/ebpf/link"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "xdp:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 2 {
		return errors.New("usage: xdp <interface>")
	}
	iface, err := net.InterfaceByName(os.Args[1])
	if err != nil {
		return err
	}

	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()

	l, err := link.AttachXDP(link.XDPOptions{Program: objs.CountSources, Interface: iface.Index})
	if err != nil {
		return fmt.Errorf("attach to %s: %w", iface.Name, err)
	}
	defer l.Close()
	fmt.Printf("Counting IPv4 packets on %s (index %d); Ctrl-C to stop.\n", iface.Name, iface.Index)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		var (
			source [4]byte // the key is the address as it is on the wire
			count  uint64
			lines  []string
		)
		iter := objs.PacketsBySource.Iterate()
		for iter.Next(&source, &count) {
			lines = append(lines, fmt.Sprintf("  %s: %d packets", netip.AddrFrom4(source), count))
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("read counts: %w", err)
		}
		slices.Sort(lines)
		fmt.Printf("%d sources\n", len(lines))
		for _, line := range lines {
			fmt.Println(line)
		}
	}
}
