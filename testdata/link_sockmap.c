/* link_sockmap: programs attached to a sockmap (BPF_PROG_ATTACH or
 * BPF_LINK_CREATE with the map's fd as target).
 *   "parser" (sk_skb/stream_parser) -> parser_count; returns skb->len (the
 *     whole buffer is one message)
 *   "verdict" (sk_skb/stream_verdict) -> verdict_count; returns SK_PASS
 *   "msg_verdict" (sk_msg) -> msg_count; returns SK_PASS
 * Map "sock_map": SOCKMAP, 2 entries, u32 -> u64 (socket fds/cookies).
 * Test: attach the three programs to sock_map, connect a TCP pair on
 * loopback, insert both sockets into sock_map (keys 0 and 1), send "hello"
 * from one to the other: it arrives, msg_count >= 1 (sender side),
 * parser_count >= 1 and verdict_count >= 1 (receiver side).
 * Verified here: bpftool prog loadall (all three load).
 */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} sock_map SEC(".maps");

__u64 parser_count, verdict_count, msg_count;

SEC("sk_skb/stream_parser")
int parser(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&parser_count, 1);
	return skb->len;
}

SEC("sk_skb/stream_verdict")
int verdict(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&verdict_count, 1);
	return SK_PASS;
}

SEC("sk_msg")
int msg_verdict(void *msg)
{
	__sync_fetch_and_add(&msg_count, 1);
	return SK_PASS;
}

BPF_LICENSE("GPL");
