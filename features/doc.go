// Package features asks the running kernel which BPF features it offers:
// map types and flags, program types, helpers per program type,
// instruction set versions, link types.
//
// It sits beside link, above the root package: its probes create small
// maps and programs, through internal/sys directly where a bare attribute
// struct is enough and through the root package where loading needs the
// loader (kernel BTF for attach targets, jump labels). The map and program
// type probes are internal/typeprobe's, whose memoized answers the root
// package uses too. It may import the root package, asm, btf, internal,
// internal/sys and internal/typeprobe; the root package must never import
// it.
//
// Every probe returns
//
//	nil                                the feature is available
//	an error wrapping ebpf.ErrNotSupported   it is not; the error names the
//	                                   feature and the first kernel version
//	                                   that has it, or says that the kernel is
//	                                   recent enough but built without it
//	any other error                    the probe itself failed (for example
//	                                   EPERM without CAP_BPF, or a program type
//	                                   this kernel refuses even to root)
//
// Only the first two answers are conclusive, and only they are memoized:
// a probe that failed runs again on the next call. Results persist for the
// life of the process, whatever happens to its privileges meanwhile. A
// probe costs a few bpf(2) calls the first time and a mutex afterwards.
package features
