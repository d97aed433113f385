/* verdict: returns VERDICT (0 = NETKIT_PASS unless built with -DVERDICT=2, NETKIT_DROP) and counts its runs in
 * `hits`. The reconcile tests build it twice to replace a running program's object file with one that behaves
 * visibly differently while its map carries over. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef VERDICT
#define VERDICT 0
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} hits SEC(".maps");

SEC("tc")
int verdict(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&hits, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return VERDICT;
}

char LICENSE[] SEC("license") = "GPL";
