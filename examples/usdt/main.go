//go:build amd64 || arm64

package main

//go:generate go tool bpf2go -tags linux -target amd64,arm64 bpf usdt.c -- -I../headers -nostdinc -Wall -Werror

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bpfkit/ebpf/link"
	"github.com/bpfkit/ebpf/ringbuf"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "usdt:", err)
		os.Exit(1)
	}
}

func run() error {
	binaryPath := flag.String("binary", "", "executable or library with the probe")
	probe := flag.String("probe", "", "the probe, PROVIDER:NAME; without it, list the file's probes")
	pid := flag.Int("pid", 0, "only this process (0: every process running the file)")
	flag.Parse()
	if *binaryPath == "" {
		return errors.New("usage: usdt -binary PATH [-probe PROVIDER:NAME] [-pid PID]")
	}
	ex, err := link.OpenExecutable(*binaryPath)
	if err != nil {
		return err
	}
	if *probe == "" {
		probes, err := ex.USDTProbes()
		if err != nil {
			return err
		}
		for _, p := range probes {
			fmt.Printf("%s:%s at %#x, arguments %q\n", p.Provider, p.Name, p.Address, p.Args)
		}
		return nil
	}
	provider, name, ok := strings.Cut(*probe, ":")
	if !ok {
		return fmt.Errorf("probe %q: want PROVIDER:NAME", *probe)
	}

	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()
	// One uprobe per site of the probe; the program finds each site's
	// argument locations in the maps usdt.h declares, which USDT fills.
	l, err := ex.USDT(provider, name, objs.ReportArgs, &link.USDTOptions{PID: *pid})
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

	fmt.Printf("Waiting for %s in %s; Ctrl-C to stop.\n", *probe, *binaryPath)
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
		if ev.Nargs < 0 {
			fmt.Printf("%s in pid %d: arguments unknown (error %d)\n", *probe, ev.Pid, ev.Nargs)
			continue
		}
		args := make([]string, ev.Nargs)
		for i := range args {
			args[i] = fmt.Sprint(ev.Args[i])
		}
		fmt.Printf("%s in pid %d: %s\n", *probe, ev.Pid, strings.Join(args, " "))
	}
}
