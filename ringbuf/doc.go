// Package ringbuf reads the records that BPF programs publish in a ring
// buffer map (BPF_MAP_TYPE_RINGBUF, Linux 5.8) with bpf_ringbuf_output or
// bpf_ringbuf_reserve and bpf_ringbuf_submit.
//
// It sits beside link, above the root package, at the end of the flow: it
// takes a loaded *ebpf.Map and turns the kernel's shared memory into
// Records. It may import the root package, internal, internal/epoll and
// golang.org/x/sys/unix; the root package must never import it.
//
// A Reader maps the ring into the process once (the consumer page
// read-write, the producer page and the data read-only, the data twice in a
// row so that no record wraps), and from then on reading a record costs no
// system call while records are waiting: one atomic load of the producer
// position, a copy of the sample, one atomic store of the consumer
// position. Only an empty ring makes the Reader block in epoll_wait(2).
// ReadInto with a reused Record allocates nothing.
package ringbuf
