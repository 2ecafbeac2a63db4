package main

import (
	_ "embed"
	"encoding/binary"
)

// The default object is testdata/bpfobj_default.c, compiled by `make
// testdata`. go:embed cannot reach outside this directory, so `go generate`
// copies the two committed objects here; TestEmbeddedObjectsMatchTestdata
// fails when a copy differs from its source, so they can't drift apart.
//
//go:generate cp ../../testdata/bpfobj_default-el.elf ../../testdata/bpfobj_default-eb.elf .

//go:embed bpfobj_default-el.elf
var defaultObjectEL []byte

//go:embed bpfobj_default-eb.elf
var defaultObjectEB []byte

// defaultObject returns the embedded object compiled for the host's byte
// order, and its name.
func defaultObject() (string, []byte) {
	if isBigEndian(binary.NativeEndian) {
		return "bpfobj_default-eb.elf", defaultObjectEB
	}
	return "bpfobj_default-el.elf", defaultObjectEL
}
