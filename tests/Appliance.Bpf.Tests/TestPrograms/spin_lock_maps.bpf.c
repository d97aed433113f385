/* Maps whose values hold a struct bpf_spin_lock (found through the value's BTF) next to one without. */
#include "appliance_bpf.h"

struct locked { __u64 count; struct bpf_spin_lock lock; __u32 pad; };

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, struct locked); __uint(max_entries, 4); } locked_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 1); } plain SEC(".maps");

SEC("tc")
int bump(struct __sk_buff *skb)
{
	__u32 key = skb->len & 3;
	struct locked *l = bpf_map_lookup_elem(&locked_hash, &key);
	__u64 *p = bpf_map_lookup_elem(&plain, &key);

	if (p)
		(*p)++;
	if (!l)
		return TC_ACT_OK;
	bpf_spin_lock(&l->lock);
	l->count++;
	bpf_spin_unlock(&l->lock);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
