package ebpf_test

import (
	"log"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/link"
	"github.com/bpfkit/ebpf/rlimit"
)

// The quick start of the README: load the parts of an object a program
// needs, attach it, read a map. It is compiled (not run) by go test, so the
// README's code stays true to the API.
func Example() {
	// Only needed on kernels before 5.11, harmless elsewhere.
	if err := rlimit.RemoveMemlock(); err != nil {
		log.Fatal(err)
	}

	spec, err := ebpf.LoadCollectionSpec("counter.o") // built with clang -target bpf
	if err != nil {
		log.Fatal(err)
	}

	var objs struct {
		Count   *ebpf.Program `ebpf:"count_packets"`
		Packets *ebpf.Map     `ebpf:"packets"`
	}
	// Loads only what the struct asks for, plus what it depends on.
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		log.Fatal(err) // a *ebpf.VerifierError names the failing source line
	}
	defer objs.Count.Close()
	defer objs.Packets.Close()

	l, err := link.AttachXDP(link.XDPOptions{Program: objs.Count, Interface: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	var n uint64
	if err := objs.Packets.Lookup(uint32(0), &n); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d packets", n)
}
