/* bpf_map_lookup_percpu_elem on an array that is not per-CPU: the kernel refuses the program at load
 * ("cannot pass map_type 2 into func bpf_map_lookup_percpu_elem#195"). */
#include "appliance_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");

SEC("tc")
int percpu_on_plain(struct __sk_buff *skb)
{
	__u32 slot = skb->len & 3;
	__u64 *v = bpf_map_lookup_percpu_elem(&plain, &slot, 0);

	return v ? (int)*v : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
