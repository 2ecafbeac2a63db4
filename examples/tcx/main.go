package main

//go:generate go tool bpf2go -tags linux bpf tcx.c -- -I../headers -nostdinc -Wall -Werror

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/link"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tcx:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 2 {
		return errors.New("usage: tcx <interface>")
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

	for _, a := range []struct {
		prog   *ebpf.Program
		attach ebpf.AttachType
	}{
		{objs.CountIngress, ebpf.AttachTCXIngress},
		{objs.CountEgress, ebpf.AttachTCXEgress},
	} {
		l, err := link.AttachTCX(link.TCXOptions{Interface: iface.Index, Program: a.prog, Attach: a.attach})
		if err != nil {
			return fmt.Errorf("attach to %s: %w", iface.Name, err)
		}
		defer l.Close()
	}
	fmt.Printf("Counting packets on %s; Ctrl-C to stop.\n", iface.Name)

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
		var in, out uint64
		if err := errors.Join(objs.IngressPackets.Get(&in), objs.EgressPackets.Get(&out)); err != nil {
			return fmt.Errorf("read counts: %w", err)
		}
		fmt.Printf("received %d, sent %d packets\n", in, out)
	}
}
