package main

//go:generate go tool bpf2go -tags linux bpf kprobe.c -- -I../headers -nostdinc -Wall -Werror

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bpfkit/ebpf/link"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kprobe:", err)
		os.Exit(1)
	}
}

func run() error {
	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()

	// link.Kprobe adds the architecture's prefix (__x64_ on amd64).
	kp, err := link.Kprobe("sys_execve", objs.CountExecve, nil)
	if err != nil {
		return fmt.Errorf("attach kprobe: %w", err)
	}
	defer kp.Close()
	fmt.Println("Counting execve calls; Ctrl-C to stop.")

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
		var count uint64
		if err := objs.Calls.Lookup(uint32(0), &count); err != nil {
			return fmt.Errorf("read count: %w", err)
		}
		fmt.Printf("execve called %d times\n", count)
	}
}
