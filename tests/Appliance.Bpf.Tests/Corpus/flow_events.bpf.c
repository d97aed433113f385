/* Flow events: the first packet of each new TCP/UDP flow is queued (BPF_MAP_TYPE_QUEUE) for a user-space
 * collector and pushed on a recent-flows stack that keeps the latest eight (BPF_EXIST overwrites). */
#include "appliance_bpf.h"

struct event { __be32 saddr; __be32 daddr; __u16 dport; __u8 proto; __u8 pad; };
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __type(key, struct event); __type(value, __u32); __uint(max_entries, 1024); } seen SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_QUEUE); __type(value, struct event); __uint(max_entries, 32); } new_flows SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK); __type(value, struct event); __uint(max_entries, 8); } recent SEC(".maps");

SEC("tc")
int flow_events(struct __sk_buff *skb)
{
	struct packet_info pi;

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP || !pi.l4_offset)
		return TC_ACT_OK;
	struct event e = { .saddr = pi.saddr4, .daddr = pi.daddr4, .dport = pi.dport, .proto = pi.l4_proto };
	__u32 *packets = bpf_map_lookup_elem(&seen, &e);
	if (packets) {
		__sync_fetch_and_add(packets, 1);
		return TC_ACT_OK;
	}
	__u32 one = 1;
	bpf_map_update_elem(&seen, &e, &one, BPF_NOEXIST);
	long queued = bpf_map_push_elem(&new_flows, &e, 0);     /* -E2BIG when the collector is behind */
	bpf_map_push_elem(&recent, &e, BPF_EXIST);
	return queued == 0 ? TC_ACT_OK : TC_ACT_PIPE;
}

char LICENSE[] SEC("license") = "GPL";
