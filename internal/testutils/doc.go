// Package testutils holds what the module's tests share: skipping only on a
// named missing kernel feature or privilege, bpffs and tracefs set-up, and a
// TestMain that fails a package whose tests leak file descriptors.
//
// It is imported by tests only. It may import internal and internal/sys; it
// must never import the root package, asm, btf or link, so that every
// package's internal tests can use it without an import cycle.
package testutils
