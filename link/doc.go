// Package link attaches loaded programs to kernel hooks.
//
// It is the last stage of the data flow: it takes *ebpf.Program and
// *ebpf.Map objects and turns them into attachments, one Go type per kernel
// bpf_link_type. It imports ebpf and internal/sys; ebpf never imports it.
package link
