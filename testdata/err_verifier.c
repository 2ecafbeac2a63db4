/* err_verifier: parses and relocates cleanly, but the verifier rejects it:
 * "oob_read" reads 8 bytes at offset 24 of a map value that is 8 bytes
 * long. Line info (.BTF.ext) lets the error point at the source line.
 *
 * Test (loader): loading "oob_read" fails with a *VerifierError whose log
 * contains "invalid access to map value, value_size=8 off=24 size=8" and
 * whose source line is err_verifier.c:32 ("return value[3];").
 * "good" in the same object loads (it returns 0): a collection with a
 * rejected program must close what it already created.
 * Verified here: bpftool prog loadall fails with the message above; the
 * log's line annotation names err_verifier.c:32.
 */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

SEC("tc")
int oob_read(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&values, &key);

	if (!value)
		return 0;
	/* value points at 8 bytes: index 3 is out of bounds. */
	barrier_var(value);
	return value[3];
}

SEC("tc")
int good(struct __sk_buff *skb)
{
	return 0;
}

BPF_LICENSE("GPL");
