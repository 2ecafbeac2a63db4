package testutils

import (
	"encoding/binary"
	"os"
	"path/filepath"

	"github.com/bpfkit/ebpf/internal"
)

// ObjectPath returns the path of the test object that make testdata built
// from testdata/NAME.c for the host's byte order: NAME-el.elf, or
// NAME-eb.elf on big-endian hosts. The path is relative to the package
// directory a test runs in: the testdata directory beside the module's
// go.mod, found by walking up (at most a few stat(2) calls).
func ObjectPath(name string) string {
	suffix := "-el.elf"
	if internal.NativeEndian == binary.BigEndian {
		suffix = "-eb.elf"
	}
	dir := "."
	for range 8 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		dir = filepath.Join(dir, "..")
	}
	return filepath.Join(dir, "testdata", name+suffix)
}
