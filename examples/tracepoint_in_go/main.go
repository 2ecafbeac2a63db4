package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/asm"
	"github.com/bpfkit/ebpf/link"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tracepoint_in_go:", err)
		os.Exit(1)
	}
}

func run() error {
	counter, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "exec_count",
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: 1,
	})
	if err != nil {
		return fmt.Errorf("create map: %w", err)
	}
	defer counter.Close()

	// The C would be:
	//	__u32 zero = 0;
	//	__u64 *n = bpf_map_lookup_elem(&exec_count, &zero);
	//	if (n) __sync_fetch_and_add(n, 1);
	//	return 0;
	insns := asm.Instructions{
		asm.StoreImm(asm.RFP, -4, 0, asm.Word), // zero on the stack
		asm.LoadMapPtr(asm.R1, counter.FD()),   // the map, by descriptor
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4), // &zero
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"), // no value: nothing to count
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord), // atomic *n += 1
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "count_exec",
		Type:         ebpf.TracePoint,
		License:      "GPL",
		Instructions: insns,
	})
	if err != nil {
		return fmt.Errorf("load program: %w", err)
	}
	defer prog.Close()

	tp, err := link.Tracepoint("sched", "sched_process_exec", prog, nil)
	if err != nil {
		return fmt.Errorf("attach tracepoint: %w", err)
	}
	defer tp.Close()
	fmt.Println("Counting programs started; Ctrl-C to stop.")

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
		if err := counter.Lookup(uint32(0), &count); err != nil {
			return fmt.Errorf("read count: %w", err)
		}
		fmt.Printf("%d programs started\n", count)
	}
}
