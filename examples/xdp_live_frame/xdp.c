//go:build ignore

/* Two XDP programs for sending packets with BPF_PROG_TEST_RUN in live
 * frame mode (Linux 5.18): the kernel runs transmit on a packet Go gives
 * it, Repeat times, and really sends every frame it returns XDP_TX for. */
#include "common.h"

char _license[] SEC("license") = "GPL";

/* Frames transmitted, counted by the program itself. */
__u64 transmitted;

SEC("xdp")
int transmit(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&transmitted, 1);
	/* Out of the interface the frame "arrived" on (ingress_ifindex). */
	return XDP_TX;
}

/* Attached to the interface: drivers only set up XDP transmission for
 * interfaces with an XDP program. */
SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
