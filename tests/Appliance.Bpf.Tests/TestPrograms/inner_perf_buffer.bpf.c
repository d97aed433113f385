/* A map of maps whose inner template is a perf buffer declared without max_entries: libbpf gives the template one
 * entry per possible CPU before creating it, as it does a top-level perf buffer, so the kernel takes the object. */
#include "appliance_bpf.h"

struct inner {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps");

SEC("tc")
int inner_lookup(struct __sk_buff *skb)
{
	__u32 key = 0;
	return bpf_map_lookup_elem(&outer, &key) ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
