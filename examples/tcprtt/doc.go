// Command tcprtt prints the smoothed round-trip time of every IPv4 TCP
// connection when it closes, from an fentry program on the kernel's
// tcp_close() that reads struct tcp_sock with CO-RE:
//
//	go run -exec sudo ./examples/tcprtt
//
// Compare tcprtt_sockops, which gets every RTT sample from a sockops
// program instead.
package main
