/* A tc program that looks into a DEVMAP (the kernel loads it, unless an XDP program of the object uses the same
 * map: then EINVAL, the map's owner is XDP): the appliance has no device maps, so it loads the object and refuses
 * this program, naming the map. */
#include "appliance_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} tx_port SEC(".maps");

SEC("tc")
int tc_peeks_devmap(struct __sk_buff *skb)
{
	__u32 key = skb->len & 7;

	return bpf_map_lookup_elem(&tx_port, &key) ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
