// Command bpfobj shows what a BPF object file holds, whether the running
// kernel accepts it, and what its programs do, using only the library's
// public API. It sits at the end of the flow, as a user of every stage:
// LoadCollectionSpec (show), NewCollectionWithOptions (load), Program.Run
// (run). It may import the root package, asm, btf, rlimit and
// golang.org/x/sys/unix; it must never import internal packages (tests may
// use internal/testutils), so that it needs nothing a user couldn't have.
//
// Usage:
//
//	bpfobj [-json] [-d] [-types] [-v]     show, load and run the embedded default object
//	bpfobj [show] [-json] [-d] [-types] FILE.o
//	bpfobj load [-json] [-prog NAME] [-v] FILE.o
//	bpfobj run [-json] [-data HEX|@FILE] [-ctx HEX] [-repeat N] [-v] FILE.o PROG
//	bpfobj btf [-format c] [-o FILE] FILE|vmlinux
//	bpfobj btf -min-core -o OUT.btf [-json] FILE|vmlinux OBJ.o...
//	bpfobj map dump [-json] ID|PIN
//
// show lists the maps (type, key and value size and BTF type, max entries,
// flags, pinning, initial contents), the programs (section, type, attach
// type and target, instruction count, license, referenced maps and
// subprograms) and the global variables with their values decoded through
// BTF. -d adds the disassembly with source lines from BTF line info,
// -types the object's BTF types as Go declarations (btf.GoFormatter).
//
// load loads the whole object (or only -prog NAME and the maps) with the
// verifier's statistics log level and prints, per program, the instructions
// the verifier processed, its states and its time. A rejected program gets
// the verifier's cause and the failing source line; -v adds the whole log.
//
// run loads the object and runs PROG once (or -repeat N times) with
// BPF_PROG_TEST_RUN: packet programs get a 64-byte UDP sample packet unless
// -data is given. It prints the return value (named for XDP, tc and socket
// programs), the output data and context, the mean run time (as the
// kernel measured it, or the wall clock of the bpf(2) call for program
// types whose test runner measures none), and the global variables and
// small maps after the run.
//
// btf prints the BTF of an object, a raw BTF file or (with "vmlinux") the
// running kernel as a C header (btf.CFormatter), the vmlinux.h that bpftool
// btf dump format c writes. btf -min-core writes the part of a kernel's BTF
// that the CO-RE relocations of the given objects need (btf.MinimizeForCORE),
// to ship with programs for kernels without BTF or to use as KernelTypes.
//
// map dump prints the entries of a loaded map, found by ID or pinned path,
// with keys and values decoded through the map's BTF (one value per
// possible CPU for per-CPU maps); -json adds them in bpftool's "formatted"
// layout. run shows the maps it read after a run with the same reader.
//
// Without a file, bpfobj works on an object embedded in the binary
// (testdata/bpfobj_default.c: a packet counter with a map, two global
// variables and a subprogram): it shows it and, as root, loads it and runs
// both programs on the sample packet. Without root it stops after showing
// and says so.
//
// -json prints one JSON document per invocation, a Report (report.go
// documents every field). Exit status: 0 on success, 1 on failure (missing
// or unreadable file, non-ELF input, rejected program, failed run), 2 on
// bad usage.
package main
