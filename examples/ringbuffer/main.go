package main

//go:generate go tool bpf2go -tags linux -type event bpf ringbuffer.c -- -I../headers -nostdinc -Wall -Werror

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/bpfkit/ebpf/link"
	"github.com/bpfkit/ebpf/ringbuf"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ringbuffer:", err)
		os.Exit(1)
	}
}

func run() error {
	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()

	tp, err := link.Tracepoint("sched", "sched_process_exec", objs.ReportExec, nil)
	if err != nil {
		return fmt.Errorf("attach tracepoint: %w", err)
	}
	defer tp.Close()

	rd, err := ringbuf.NewReader(objs.Events)
	if err != nil {
		return fmt.Errorf("ring buffer reader: %w", err)
	}
	defer rd.Close()

	// Closing the reader makes a blocked Read return ErrClosed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		rd.Close()
	}()

	fmt.Println("Waiting for programs to start; Ctrl-C to stop.")
	for {
		rec, err := rd.Read()
		if errors.Is(err, ringbuf.ErrClosed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		var ev bpfEvent
		if err := binary.Read(bytes.NewReader(rec.RawSample), binary.NativeEndian, &ev); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		fmt.Printf("pid %d comm %s filename %s\n", ev.Pid, cString(ev.Comm[:]), cString(ev.Filename[:]))
	}
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	s, _, _ := bytes.Cut(b, []byte{0})
	return string(s)
}
