/* Port forwarding: a destination port with a rule is rewritten (TCP and UDP, 2-byte l4_csum_replace);
 * frames whose port has no rule but is below 1024 are dropped. */
#include "appliance_bpf.h"

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u16); __type(value, __u16); __uint(max_entries, 64); } forwards SEC(".maps");

SEC("tc")
int port_forward(struct __sk_buff *skb)
{
	struct packet_info pi;

	if (parse_packet(skb, &pi) < 0 || !pi.l4_offset)
		return TC_ACT_OK;
	__u16 *to = bpf_map_lookup_elem(&forwards, &pi.dport);
	if (!to)
		return pi.dport < 1024 && pi.dport != 22 ? TC_ACT_SHOT : TC_ACT_OK;
	__be16 old_port = bpf_htons(pi.dport), new_port = bpf_htons(*to);
	__u32 csum_off = pi.l4_offset + (pi.l4_proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) : offsetof(struct udphdr, check));
	if (bpf_l4_csum_replace(skb, csum_off, old_port, new_port, 2 | (pi.l4_proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0)) < 0 ||
	    bpf_skb_store_bytes(skb, pi.l4_offset + offsetof(struct udphdr, dest), &new_port, 2, 0) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
