package main

//go:generate go tool bpf2go -tags linux bpf tracepoint.c -- -I../headers -nostdinc -Wall -Werror

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/bpfkit/ebpf/link"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tracepoint_in_c:", err)
		os.Exit(1)
	}
}

func run() error {
	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()

	tp, err := link.Tracepoint("task", "task_rename", objs.CountRenames, nil)
	if err != nil {
		return fmt.Errorf("attach tracepoint: %w", err)
	}
	defer tp.Close()
	fmt.Println("Counting thread renames; Ctrl-C to stop.")

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
			key   bpfName // generated from struct name
			count uint64
			lines []string
		)
		iter := objs.Renames.Iterate()
		for iter.Next(&key, &count) {
			name, _, _ := bytes.Cut(key.Comm[:], []byte{0})
			lines = append(lines, fmt.Sprintf("  renamed to %q: %d times", name, count))
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("read counts: %w", err)
		}
		slices.Sort(lines)
		fmt.Printf("%d names\n", len(lines))
		for _, line := range lines {
			fmt.Println(line)
		}
	}
}
