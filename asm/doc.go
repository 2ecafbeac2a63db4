// Package asm is an assembler and disassembler for eBPF instructions.
//
// It sits at the bottom of the data flow: the ELF reader decodes programs
// with it, btf attaches line and CO-RE information to its instructions as
// metadata, and the loader rewrites them before handing them to the kernel.
// It may import the standard library and internal; it must never import
// internal/sys or anything that makes a syscall.
//
// # Instructions
//
// An Instruction is the kernel's struct bpf_insn decoded into Go fields, with
// two conveniences: the 16-byte 64-bit immediate load (ldimm64) is one
// Instruction holding the whole constant, and operations the kernel selects
// with another field (signed division, sign-extending moves, the atomic
// operations) are part of the OpCode, so that builders such as
//
//	asm.SDiv.Imm(asm.R1, 3)
//	asm.FetchAdd.Mem(asm.RFP, asm.R1, asm.DWord, -8)
//
// need no magic numbers. Marshal and AppendInstructions translate in both
// byte orders, and decoding then encoding reproduces any accepted input bit
// for bit. Neither allocates per instruction.
//
// # Metadata
//
// Symbols, references to symbols and maps, source lines and whatever other
// packages attach travel with each Instruction in its Metadata: a pointer to
// an immutable table, so copying an instruction copies one word, and Set
// replaces the table rather than changing it. A MetadataBuilder sets several
// entries with one new table, for readers that annotate every instruction.
//
// # Generated code
//
// The encoding constants and the BuiltinFunc list (one constant per helper
// of the Linux 6.18 UAPI, with String) are generated from
// internal/cmd/uapi/bpf-uapi.h by internal/cmd/genasm (make generate); a test
// in that package fails when the committed files are stale.
package asm
