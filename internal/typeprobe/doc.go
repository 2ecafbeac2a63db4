// Package typeprobe asks the running kernel which map and program types,
// and which map flags, it has, once per process: memoized tables keyed by
// sys.MapType, sys.ProgType and the BPF_F_* value, shared by the root
// package (which explains failed loads with them) and features (which
// answers users), so that both probe each at most once and word the answer
// alike.
//
// It sits below the objects, beside internal/sys: it may import internal,
// internal/sys and asm (to encode the throwaway program); it must never
// import btf, the root package or anything above it. Probes that need the
// loader (kernel BTF for an attach target: tracing, LSM, extension
// programs) can't live here; the table marks those types and leaves them to
// features.
package typeprobe
