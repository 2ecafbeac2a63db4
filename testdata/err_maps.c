/* err_maps: malformed BTF map definitions in SEC(".maps").
 *   - bad_type: "type" is a plain int member instead of __uint (a pointer
 *     to an array whose length is the value), so its value is unknowable;
 *   - bad_attr: an unknown attribute "bpfkit_bogus".
 * Test (ELF reader): reading fails with an error naming the map
 * ("bad_type") and the member ("type"), e.g. "map bad_type: member type:
 * expected a pointer to an array"; a reader that processes maps in
 * another order may report "bad_attr"/"bpfkit_bogus" instead: assert that
 * the error names one of them.
 * Verified here: bpftool prog loadall fails (libbpf: "map 'bad_type':
 * attr 'type': expected PTR, got int").
 */
#include "common.h"

struct {
	int type;
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bad_type SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(bpfkit_bogus, 1);
	__type(key, __u32);
	__type(value, __u32);
} bad_attr SEC(".maps");

SEC("tc")
int use_maps(struct __sk_buff *skb)
{
	__u32 key = 0;

	bpf_map_lookup_elem(&bad_type, &key);
	bpf_map_lookup_elem(&bad_attr, &key);
	return 0;
}

BPF_LICENSE("GPL");
