package main

//go:generate go tool bpf2go -tags linux bpf kprobe_pin.c -- -I../headers -nostdinc -Wall -Werror

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/link"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kprobepin:", err)
		os.Exit(1)
	}
}

func run() error {
	pinDir := flag.String("pin-dir", "/sys/fs/bpf/kprobepin", "directory on a BPF file system for the pinned map")
	flag.Parse()
	if err := os.MkdirAll(*pinDir, 0o700); err != nil {
		return err
	}

	var objs bpfObjects
	opts := &ebpf.CollectionOptions{Maps: ebpf.MapOptions{PinPath: *pinDir}}
	if err := loadBpfObjects(&objs, opts); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	// Closing the map keeps it: the pin holds a reference.
	defer objs.Close()

	kp, err := link.Kprobe("sys_execve", objs.CountExecve, nil)
	if err != nil {
		return fmt.Errorf("attach kprobe: %w", err)
	}
	defer kp.Close()
	fmt.Printf("Counting execve calls in %s; Ctrl-C to stop.\n", filepath.Join(*pinDir, "calls"))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var count uint64
		if err := objs.Calls.Lookup(uint32(0), &count); err != nil {
			return fmt.Errorf("read count: %w", err)
		}
		fmt.Printf("execve called %d times\n", count)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
