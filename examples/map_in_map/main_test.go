package main

import (
	"testing"

	"github.com/go-quicktest/qt"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

func TestMapInMap(t *testing.T) {
	out := exampletest.Start(t).Wait()
	want := ""
	for _, typ := range []string{"ArrayOfMaps", "HashOfMaps"} {
		want += typ + " holds 3 inner maps\n" +
			"  0: Array with 4 entries, from 10 to 13\n" +
			"  1: Array with 4 entries, from 20 to 23\n" +
			"  2: Array with 4 entries, from 30 to 33\n"
	}
	qt.Assert(t, qt.Equals(out, want))
}
