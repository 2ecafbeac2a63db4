/* link_cgroup: one program per cgroup hook the link tests attach
 * (BPF_LINK_CREATE or BPF_PROG_ATTACH on a cgroup v2 directory). Each
 * counts its runs into a .bss counter named after it and allows the
 * operation (returns 1), so attaching it to a test cgroup changes nothing
 * but the counter.
 *   cgroup_skb/ingress "skb_ingress" -> ingress_count
 *   cgroup_skb/egress "skb_egress" -> egress_count
 *   cgroup/sock_create "sock_create" -> sock_create_count
 *   cgroup/connect4 "connect4" -> connect4_count
 *   cgroup/sysctl "sysctl" -> sysctl_count
 *   cgroup/getsockopt "getsockopt" -> getsockopt_count (keeps the
 *     kernel's return value and option)
 *   cgroup/dev "dev" -> dev_count
 * Test: create a cgroup, move the test thread into it, attach; then
 * socket(AF_INET, SOCK_DGRAM) -> sock_create_count 1; connect() a UDP
 * socket to 127.0.0.1 -> connect4_count 1; send a datagram to 127.0.0.1
 * -> egress_count and ingress_count >= 1; read /proc/sys/net/ipv4/ip_forward
 * -> sysctl_count 1; getsockopt(SO_RCVBUF) -> getsockopt_count 1;
 * open /dev/null -> dev_count >= 1.
 * Verified here: bpftool prog loadall (all load).
 */
#include "common.h"

__u64 ingress_count, egress_count, sock_create_count, connect4_count;
__u64 sysctl_count, getsockopt_count, dev_count;

SEC("cgroup_skb/ingress")
int skb_ingress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&ingress_count, 1);
	return 1;
}

SEC("cgroup_skb/egress")
int skb_egress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&egress_count, 1);
	return 1;
}

SEC("cgroup/sock_create")
int sock_create(void *ctx)
{
	__sync_fetch_and_add(&sock_create_count, 1);
	return 1;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	__sync_fetch_and_add(&connect4_count, 1);
	return 1;
}

SEC("cgroup/sysctl")
int sysctl(struct bpf_sysctl *ctx)
{
	__sync_fetch_and_add(&sysctl_count, 1);
	return 1;
}

SEC("cgroup/getsockopt")
int getsockopt(struct bpf_sockopt *ctx)
{
	__sync_fetch_and_add(&getsockopt_count, 1);
	return 1;
}

SEC("cgroup/dev")
int dev(void *ctx)
{
	__sync_fetch_and_add(&dev_count, 1);
	return 1;
}

BPF_LICENSE("GPL");
