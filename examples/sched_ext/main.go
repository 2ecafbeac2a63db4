package main

//go:generate go tool bpf2go -no-global-types -tags linux bpf sched_ext.c -- -I../headers -nostdinc -Wall -Werror

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/bpfkit/ebpf/link"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sched_ext:", err)
		os.Exit(1)
	}
}

func run() error {
	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()

	l, err := link.AttachStructOps(link.StructOpsOptions{Map: objs.BpfkitMinimal})
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	defer l.Close()
	fmt.Println("Scheduling with bpfkit_minimal; Ctrl-C to stop.")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		// The kernel's view of the running scheduler.
		state := readFile("/sys/kernel/sched_ext/state")
		ops := readFile("/sys/kernel/sched_ext/root/ops")
		fmt.Printf("sched_ext %s, ops %s\n", state, ops)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func readFile(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimSpace(string(b))
}
