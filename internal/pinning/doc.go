// Package pinning pins kernel objects (maps, programs, links) as files on a
// BPF file system and removes those pins, so that every kind of object
// pins, moves and unpins by the same rules and with the same errors.
//
// It sits below the objects, beside internal/sys: the root package (maps,
// programs) and link call it with their descriptor and the path they are
// pinned at. It may import internal, internal/sys and internal/linux; it
// must never import asm, btf, the root package or anything above it.
package pinning
