/* link_socket: programs attached to sockets or to a network namespace.
 *   "count_packets" (socket, SO_ATTACH_BPF) -> packet_count; returns the
 *     packet length (keeps it whole)
 *   "lookup" (sk_lookup, BPF_LINK_CREATE on a netns, 5.9) -> lookup_count;
 *     returns SK_PASS without selecting a socket, so the normal lookup
 *     proceeds
 * Test: attach count_packets to a UDP socket bound on 127.0.0.1, send it
 * N datagrams: all are received and packet_count == N. Attach lookup to
 * the test's netns, connect a TCP socket to a listener on 127.0.0.1:
 * lookup_count >= 1 and the connection succeeds.
 * Verified here: bpftool prog loadall (both load); count_packets also runs
 * under BPF_PROG_TEST_RUN (64-byte packet returns 50, see bpfobj_default).
 */
#include "common.h"

__u64 packet_count, lookup_count;

SEC("socket")
int count_packets(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&packet_count, 1);
	return skb->len;
}

SEC("sk_lookup")
int lookup(void *ctx)
{
	__sync_fetch_and_add(&lookup_count, 1);
	return SK_PASS;
}

BPF_LICENSE("GPL");
