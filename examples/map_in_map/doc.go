// Command map_in_map builds maps of maps from Go, without any BPF program:
// an array of maps and a hash of maps, each holding inner arrays it
// creates, then reads the inner maps back through the outer ones:
//
//	go run -exec sudo ./examples/map_in_map
//
// It shows MapSpec.InnerMap, storing a *ebpf.Map as a value (the kernel
// keeps a reference: the inner map lives on after Go closes it), and
// looking one up as a **ebpf.Map (a new descriptor from the stored ID).
package main
