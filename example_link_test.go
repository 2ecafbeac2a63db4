package ebpf_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"slices"

	"github.com/bpfkit/ebpf"
)

// A program split across two C files, each compiled on its own with clang
// -target bpf -c: objlink_a.c calls a function and reads variables and a
// map that objlink_b.c defines. Linked, they read like one object.
func ExampleLoadLinkedCollectionSpec() {
	spec, err := ebpf.LoadLinkedCollectionSpec("testdata/objlink_b-el.elf", "testdata/objlink_a-el.elf")
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for name := range spec.Programs {
		names = append(names, name)
	}
	slices.Sort(names)
	fmt.Println(names)
	fmt.Println(spec.Maps["shared_map"].Type, spec.Maps["shared_map"].MaxEntries)
	// Output:
	// [objlink_entry objlink_second]
	// Array 4
}

// Objects held in memory (go:embed, say) link the same way; the result is
// an ELF object that LoadCollectionSpecFromReader reads, or a file that
// libbpf and bpftool read too (what `bpfobj link -o` writes).
func ExampleLinkObjects() {
	var objects []io.ReaderAt
	for _, file := range []string{"testdata/objlink_b-el.elf", "testdata/objlink_a-el.elf"} {
		data, err := os.ReadFile(file)
		if err != nil {
			log.Fatal(err)
		}
		objects = append(objects, bytes.NewReader(data))
	}
	linked, err := ebpf.LinkObjects(objects...)
	if err != nil {
		log.Fatal(err)
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(linked))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(spec.Variables["weak_value"].Value, spec.Programs["objlink_entry"].License)
	// Output: [20 0 0 0] GPL
}
