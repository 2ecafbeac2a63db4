// Command tcx counts the packets an interface receives and sends with two
// tc programs attached through tcx (Linux 6.6), and prints the counts every
// second:
//
//	go run -exec sudo ./examples/tcx eth0
//
// It shows link.AttachTCX for ingress and egress, and global variables
// read from Go (bpfVariables) instead of maps.
package main
