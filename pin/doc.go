// Package pin opens BPF objects pinned on a BPF file system (bpffs) without
// knowing their kind in advance, and walks directories of pins.
//
// It sits at the top of the flow, above link: Load returns an *ebpf.Map,
// an *ebpf.Program or a link.Link, whichever the pin holds. It may import
// the root package, link, internal, internal/sys and internal/linux;
// neither the root package nor link may import it.
package pin
