package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/bpfkit/ebpf"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "map_in_map:", err)
		os.Exit(1)
	}
}

// inner is the blueprint every inner map must match.
var inner = &ebpf.MapSpec{
	Type:       ebpf.Array,
	KeySize:    4,
	ValueSize:  4,
	MaxEntries: 4,
}

func run() error {
	for _, typ := range []ebpf.MapType{ebpf.ArrayOfMaps, ebpf.HashOfMaps} {
		if err := fill(typ); err != nil {
			return fmt.Errorf("%s: %w", typ, err)
		}
	}
	return nil
}

// fill creates an outer map of typ holding three inner arrays, writes
// into each inner map, then finds them again through the outer map.
func fill(typ ebpf.MapType) (err error) {
	outer, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "outer",
		Type:       typ,
		KeySize:    4,
		ValueSize:  4, // an inner map's descriptor going in, its ID coming out
		MaxEntries: 3,
		InnerMap:   inner,
	})
	if err != nil {
		return fmt.Errorf("create outer map: %w", err)
	}
	defer outer.Close()

	for i := uint32(0); i < 3; i++ {
		m, err := ebpf.NewMap(inner)
		if err != nil {
			return fmt.Errorf("create inner map: %w", err)
		}
		// Inner map i holds (i+1)*10 + slot in each slot.
		for slot := uint32(0); slot < inner.MaxEntries; slot++ {
			if err := m.Put(slot, (i+1)*10+slot); err != nil {
				return errors.Join(err, m.Close())
			}
		}
		err = outer.Put(i, m)
		// The outer map holds its own reference now.
		err = errors.Join(err, m.Close())
		if err != nil {
			return fmt.Errorf("store inner map %d: %w", i, err)
		}
	}

	var (
		key   uint32
		value uint32 // Iterate yields inner maps as IDs
		ids   int
	)
	iter := outer.Iterate()
	for iter.Next(&key, &value) {
		ids++
	}
	if err := iter.Err(); err != nil {
		return err
	}
	fmt.Printf("%s holds %d inner maps\n", typ, ids)

	for i := uint32(0); i < 3; i++ {
		var m *ebpf.Map
		if err := outer.Lookup(i, &m); err != nil {
			return fmt.Errorf("look up inner map %d: %w", i, err)
		}
		var first, last uint32
		err := m.Lookup(uint32(0), &first)
		if err == nil {
			err = m.Lookup(inner.MaxEntries-1, &last)
		}
		info, infoErr := m.Info()
		err = errors.Join(err, infoErr, m.Close())
		if err != nil {
			return fmt.Errorf("read inner map %d: %w", i, err)
		}
		fmt.Printf("  %d: %s with %d entries, from %d to %d\n", i, info.Type, info.MaxEntries, first, last)
	}
	return nil
}
