//go:build amd64 || arm64

package main

//go:generate go tool bpf2go -tags linux -target amd64,arm64 bpf uretprobe.c -- -I../headers -nostdinc -Wall -Werror

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/bpfkit/ebpf/link"
	"github.com/bpfkit/ebpf/ringbuf"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "uretprobe:", err)
		os.Exit(1)
	}
}

func run() error {
	binaryPath := flag.String("binary", "", "executable or library to probe")
	symbol := flag.String("symbol", "", "function whose return values to print")
	flag.Parse()
	if *binaryPath == "" || *symbol == "" {
		return errors.New("usage: uretprobe -binary PATH -symbol FUNCTION")
	}

	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()

	ex, err := link.OpenExecutable(*binaryPath)
	if err != nil {
		return err
	}
	// Every process running the binary, present and future.
	up, err := ex.Uretprobe(*symbol, objs.ReportReturn, nil)
	if err != nil {
		return fmt.Errorf("attach uretprobe: %w", err)
	}
	defer up.Close()

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

	fmt.Printf("Waiting for %s in %s to return; Ctrl-C to stop.\n", *symbol, *binaryPath)
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
		fmt.Printf("%s returned %d in pid %d\n", *symbol, ev.Ret, ev.Pid)
	}
}
