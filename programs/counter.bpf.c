/* counter (tc): counts packets and bytes per tenant, the tenant being the interface the frame is on
 * (skb->ifindex). Maps: `tenant_stats` PERCPU_HASH, key __u32 ifindex, value struct tenant_stats
 * { __u64 packets; __u64 bytes; } (one value per CPU; readers sum them). Always returns TC_ACT_UNSPEC (netkit NEXT): a counter only observes, so in a chain the programs after it
 * (or, when it is last, PASS) decide the frame's fate. */
#include "appliance_bpf.h"

struct tenant_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, __u32);
	__type(value, struct tenant_stats);
	__uint(max_entries, 1024);
} tenant_stats SEC(".maps");

SEC("tc")
int count_tenant(struct __sk_buff *skb)
{
	__u32 tenant = skb->ifindex;
	struct tenant_stats *st = bpf_map_lookup_elem(&tenant_stats, &tenant);

	if (st) {
		st->packets += 1;
		st->bytes += skb->len;
	} else {
		struct tenant_stats init = { .packets = 1, .bytes = skb->len };
		bpf_map_update_elem(&tenant_stats, &tenant, &init, BPF_NOEXIST);
	}
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
