/* Flow accounting in an LRU per-CPU hash, the map connection trackers and load balancers keep flows in: a flow
 * (addresses, destination port, protocol) is created on first sight and counted on each later packet, per CPU; the verdict
 * says whether the flow was new. */
#include "appliance_bpf.h"

struct flow { __u32 saddr, daddr; __u16 dport; __u8 proto, pad; };
struct usage { __u64 packets, bytes; };

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__type(key, struct flow);
	__type(value, struct usage);
	__uint(max_entries, 4096);
} flows SEC(".maps");

SEC("tc")
int flow_lru(struct __sk_buff *skb)
{
	struct packet_info pi;
	struct flow f = {};
	struct usage *u;

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP)
		return TC_ACT_OK;
	f.saddr = pi.saddr4;
	f.daddr = pi.daddr4;
	f.dport = pi.dport;
	f.proto = pi.l4_proto;
	u = bpf_map_lookup_elem(&flows, &f);
	if (u) {
		u->packets++;
		u->bytes += skb->len;
		return TC_ACT_OK;
	}
	struct usage first = { 1, skb->len };
	bpf_map_update_elem(&flows, &f, &first, BPF_NOEXIST);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
