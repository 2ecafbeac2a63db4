package btf

// coreKind is a CO-RE relocation kind (enum bpf_core_relo_kind).
type coreKind uint32
