package main

//go:generate go tool bpf2go -tags linux bpf kprobe_percpu.c -- -I../headers -nostdinc -Wall -Werror

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
		fmt.Fprintln(os.Stderr, "kprobe_percpu:", err)
		os.Exit(1)
	}
}

func run() error {
	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()

	kp, err := link.Kprobe("sys_execve", objs.CountExecve, nil)
	if err != nil {
		return fmt.Errorf("attach kprobe: %w", err)
	}
	defer kp.Close()
	fmt.Println("Counting execve calls per CPU; Ctrl-C to stop.")

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
		// A slice gets one value per possible CPU.
		var perCPU []uint64
		if err := objs.Calls.Lookup(uint32(0), &perCPU); err != nil {
			return fmt.Errorf("read counts: %w", err)
		}
		var total uint64
		for _, n := range perCPU {
			total += n
		}
		fmt.Printf("execve called %d times (per CPU: %v)\n", total, perCPU)
	}
}
