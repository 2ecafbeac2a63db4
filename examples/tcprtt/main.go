package main

//go:generate go tool bpf2go -tags linux bpf tcprtt.c -- -I../headers -nostdinc -Wall -Werror

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/bpfkit/ebpf/link"
	"github.com/bpfkit/ebpf/ringbuf"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tcprtt:", err)
		os.Exit(1)
	}
}

func run() error {
	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()

	l, err := link.AttachTracing(link.TracingOptions{Program: objs.TraceClose})
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	defer l.Close()

	rd, err := ringbuf.NewReader(objs.Events)
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

	fmt.Println("Reporting RTTs of closed TCP connections; Ctrl-C to stop.")
	for {
		rec, err := rd.Read()
		if errors.Is(err, ringbuf.ErrClosed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		var ev bpfCloseEvent
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
