//go:build ignore

/* Counts the packets an interface receives and sends, with two tc
 * programs attached through tcx. */
#include "common.h"

char _license[] SEC("license") = "GPL";

/* Global variables: Go reads them through bpfVariables, in the map that
 * holds .bss, without a map lookup of its own. */
__u64 ingress_packets;
__u64 egress_packets;

SEC("tc")
int count_ingress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&ingress_packets, 1);
	/* Let the next program (or the kernel) decide. */
	return TCX_NEXT;
}

SEC("tc")
int count_egress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&egress_packets, 1);
	return TCX_NEXT;
}
