/* A map declared extern, as objects meant to be linked with bpftool gen object declare the maps another object
 * defines: one object alone cannot be loaded, by the kernel's libbpf or by the appliance. */
#include "appliance_bpf.h"

typedef struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} shared_t;

extern shared_t shared_counts SEC(".maps");
shared_t own_counts SEC(".maps");

SEC("tc")
int count_elsewhere(struct __sk_buff *skb)
{
	__u32 key = skb->len & 3;
	__u64 *v = bpf_map_lookup_elem(&shared_counts, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	v = bpf_map_lookup_elem(&own_counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
