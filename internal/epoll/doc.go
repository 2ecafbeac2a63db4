// Package epoll waits for one or more file descriptors to become readable,
// with deadlines, and lets another goroutine interrupt the wait.
//
// It sits under the readers of kernel-to-user data (ringbuf and perf): a
// reader adds its rings' fds to a Waiter, blocks in Wait when its rings are
// empty, and is woken by data, by its deadline, by Flush or by Close from
// another goroutine. The Waiter (a Poller plus the deadline and the deadline
// or flush held back until the rings are drained) is the part of both
// readers that doesn't depend on the ring's format. It uses epoll(7) and
// eventfd(2) through golang.org/x/sys/unix and may import the standard
// library and internal; it must never import internal/sys (it calls no
// bpf(2)) or any package above it.
package epoll
