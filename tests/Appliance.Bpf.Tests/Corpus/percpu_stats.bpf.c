/* Per-CPU statistics: packet and byte counters by L3/L4 protocol (per-CPU array) and by destination port
 * (per-CPU hash, created on first sight), as monitoring programs keep them. */
#include "appliance_bpf.h"

struct counters { __u64 packets; __u64 bytes; };
enum { STAT_IPV4, STAT_IPV6, STAT_OTHER, STAT_TCP, STAT_UDP, STAT_MAX };

struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __type(key, __u32); __type(value, struct counters); __uint(max_entries, STAT_MAX); } stats SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __type(key, __u16); __type(value, struct counters); __uint(max_entries, 64); } ports SEC(".maps");

static __always_inline void count(__u32 slot, __u32 len)
{
	struct counters *c = bpf_map_lookup_elem(&stats, &slot);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

SEC("tc")
int percpu_stats(struct __sk_buff *skb)
{
	struct packet_info pi;
	__u32 len = skb->len;

	if (parse_packet(skb, &pi) < 0)
		return TC_ACT_OK;
	count(pi.l3_proto == ETH_P_IP ? STAT_IPV4 : pi.l3_proto == ETH_P_IPV6 ? STAT_IPV6 : STAT_OTHER, len);
	if (pi.l4_proto == IPPROTO_TCP)
		count(STAT_TCP, len);
	else if (pi.l4_proto == IPPROTO_UDP)
		count(STAT_UDP, len);
	if (pi.l4_offset) {
		struct counters *c = bpf_map_lookup_elem(&ports, &pi.dport);
		if (c) {
			c->packets++;
			c->bytes += len;
		} else {
			struct counters first = { 1, len };
			bpf_map_update_elem(&ports, &pi.dport, &first, BPF_NOEXIST);
		}
	}
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
