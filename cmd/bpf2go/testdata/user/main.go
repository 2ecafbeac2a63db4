// A program written against the bindings cilium/ebpf's bpf2go generates
// for ../bindings.c. The tests build it unchanged against cilium's
// bindings, and against ours with only the import path changed; as root
// they run it and compare what it prints.
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"os"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	// Without the kernel: the spec, its names and the generated types.
	spec, err := loadBindings()
	if err != nil {
		return err
	}
	var specs bindingsSpecs
	if err := spec.Assign(&specs); err != nil {
		return err
	}
	if err := specs.PacketLimit.Set(uint32(7)); err != nil {
		return err
	}
	if err := spec.Variables[bindingsVarDefaultKind].Set(bindingsKindKIND_TIMER); err != nil {
		return err
	}
	starts := [2]bindingsCounter{{Packets: 10}, {Packets: 20}}
	if err := specs.StartValues.Set(starts); err != nil {
		return err
	}
	fmt.Println("programs:", specs.CountPackets.Name, spec.Programs[bindingsProgReport].Name)
	fmt.Println("maps:", specs.Counters.Name, specs.EventRing.Name, spec.Maps[bindingsMapEventsByKind].Name)
	fmt.Println("sizes:", unsafe.Sizeof(bindingsEventT{}), unsafe.Sizeof(bindingsCounter{}),
		unsafe.Sizeof(bindingsRequest{}), unsafe.Sizeof(bindingsValue{}), unsafe.Sizeof(bindingsKindKIND_NONE))
	req := bindingsRequest{Id: 1, Deadline: -1}
	_ = req
	var _ *ebpf.MapSpec = specs.EventsByKind
	var _ *ebpf.VariableSpec = specs.Totals
	var _ *ebpf.ProgramSpec = specs.Report
	if os.Getuid() != 0 {
		return nil
	}

	// Loaded.
	var objs bindingsObjects
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		return err
	}
	defer objs.Close()
	rd, err := ringbuf.NewReader(objs.EventRing)
	if err != nil {
		return err
	}
	defer rd.Close()

	packet := make([]byte, 64)
	for range 3 {
		ret, err := objs.CountPackets.Run(&ebpf.RunOptions{Data: packet})
		if err != nil {
			return err
		}
		fmt.Println("count_packets returned", bindingsKind(ret))
	}
	var c bindingsCounter
	if err := objs.Counters.Lookup(uint32(0), &c); err != nil {
		return err
	}
	var runs uint64
	if err := objs.Runs.Get(&runs); err != nil {
		return err
	}
	var totals bindingsCounter
	if err := objs.Totals.Get(&totals); err != nil {
		return err
	}
	var last bindingsValue
	if err := objs.LastValue.Get(&last); err != nil {
		return err
	}
	fmt.Printf("counter %d packets %d bytes, runs %d, totals.packets %d, last_value %d\n", c.Packets, c.Bytes, runs, totals.Packets, last.Small)

	if _, err := objs.Report.Run(&ebpf.RunOptions{Data: packet}); err != nil {
		return err
	}
	rec, err := rd.Read()
	if err != nil {
		return err
	}
	var ev bindingsEventT
	if err := binary.Read(bytes.NewReader(rec.RawSample), binary.NativeEndian, &ev); err != nil {
		return err
	}
	fmt.Printf("event: when %d seen %v kind %d\n", ev.When, ev.Seen, ev.Kind)
	if err := objs.EventsByKind.Put(ev.Kind, ev); err != nil {
		return err
	}
	var back bindingsEventT
	if err := objs.EventsByKind.Lookup(bindingsKindKIND_TIMER, &back); err != nil {
		return err
	}
	fmt.Println("stored event for kind", back.Kind)

	// The programs and maps on their own.
	var maps bindingsMaps
	if err := loadBindingsObjects(&maps, nil); err != nil {
		return err
	}
	var progs bindingsPrograms
	if err := loadBindingsObjects(&progs, &ebpf.CollectionOptions{}); err != nil {
		return errors.Join(err, maps.Close())
	}
	fmt.Println("loaded separately:", maps.Counters != nil, progs.Report != nil)
	return errors.Join(progs.Close(), maps.Close(), objs.bindingsPrograms.Close(), objs.bindingsMaps.Close())
}
