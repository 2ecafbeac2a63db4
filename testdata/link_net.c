/* link_net: programs attached to a network device (by ifindex), each
 * counting its runs into a .bss counter and letting the packet through.
 *   "xdp_pass" (xdp) -> xdp_count, returns XDP_PASS
 *   "tcx_in" (tcx/ingress, BPF_TCX_INGRESS, 6.6) -> tcx_ingress_count,
 *     returns TCX_NEXT
 *   "tcx_out" (tcx/egress) -> tcx_egress_count, returns TCX_NEXT
 *   "tc_cls" (tc: classic cls_bpf via netlink, or tcx) -> tc_count,
 *     returns TC_ACT_OK
 *   "netkit_primary", "netkit_peer" (netkit/primary, netkit/peer, 6.7) ->
 *     netkit_primary_count / netkit_peer_count, return NETKIT_NEXT (-1)
 * Test: on loopback (or a veth pair in a test network namespace) attach
 * xdp_pass (generic mode), tcx_in and tcx_out; ping 127.0.0.1 once ->
 * every counter >= 1; close the links -> they stop. netkit needs
 * CONFIG_NETKIT, absent on the 6.18 machine here: skip naming it.
 * Every program also runs under BPF_PROG_TEST_RUN with a 64-byte packet
 * (XDP_PASS, -1, -1, 0, -1, -1).
 * Verified here: libbpf loader (all six load; tcx and netkit programs with
 * their expected attach types, which libbpf 1.1 does not infer).
 */
#include "common.h"

enum {
	NETKIT_NEXT = -1,
	NETKIT_PASS = 0,
	NETKIT_DROP = 2,
};

__u64 xdp_count, tcx_ingress_count, tcx_egress_count, tc_count;
__u64 netkit_primary_count, netkit_peer_count;

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&xdp_count, 1);
	return XDP_PASS;
}

SEC("tcx/ingress")
int tcx_in(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tcx_ingress_count, 1);
	return TCX_NEXT;
}

SEC("tcx/egress")
int tcx_out(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tcx_egress_count, 1);
	return TCX_NEXT;
}

SEC("tc")
int tc_cls(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tc_count, 1);
	return TC_ACT_OK;
}

SEC("netkit/primary")
int netkit_primary(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&netkit_primary_count, 1);
	return NETKIT_NEXT;
}

SEC("netkit/peer")
int netkit_peer(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&netkit_peer_count, 1);
	return NETKIT_NEXT;
}

BPF_LICENSE("GPL");
