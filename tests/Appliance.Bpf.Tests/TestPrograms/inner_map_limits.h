/* A map of maps and its inner template: libbpf creates the template as a map first, so the object does not load
 * where the kernel refuses the template. INNER_TYPE and INNER_VALUE (set by the including file) make the template;
 * INNER_NO_MAX_ENTRIES leaves its max_entries out. */
#include "appliance_bpf.h"

struct inner {
	__uint(type, INNER_TYPE);
	__uint(key_size, 4);
	__uint(value_size, INNER_VALUE);
#ifndef INNER_NO_MAX_ENTRIES /* a perf buffer's template leaves it to libbpf: one entry per possible CPU */
	__uint(max_entries, 1);
#endif
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
