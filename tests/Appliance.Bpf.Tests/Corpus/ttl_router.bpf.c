/* A forwarding step: decrement the IPv4 TTL (checksum fixed with a 2-byte l3_csum_replace) or the IPv6
 * hop limit, drop at 1, swap the MAC addresses and redirect to the next hop's interface from a map. */
#include "appliance_bpf.h"

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __be32); __type(value, __u32); __uint(max_entries, 64); } next_hop SEC(".maps");

SEC("tc")
int ttl_router(struct __sk_buff *skb)
{
	struct packet_info pi;
	__u8 macs[12], swapped[12];

	if (parse_packet(skb, &pi) < 0)
		return TC_ACT_OK;
	if (pi.l3_proto == ETH_P_IP) {
		__be16 old_word, new_word;
		if (bpf_skb_load_bytes(skb, pi.l3_offset + 8, &old_word, 2) < 0)
			return TC_ACT_SHOT;
		__u8 ttl = ((__u8 *)&old_word)[0];
		if (ttl <= 1)
			return TC_ACT_SHOT;
		new_word = old_word;
		((__u8 *)&new_word)[0] = ttl - 1;
		if (bpf_l3_csum_replace(skb, pi.l3_offset + offsetof(struct iphdr, check), old_word, new_word, 2) < 0 ||
		    bpf_skb_store_bytes(skb, pi.l3_offset + 8, &new_word, 2, 0) < 0)
			return TC_ACT_SHOT;
	} else if (pi.l3_proto == ETH_P_IPV6) {
		__u8 hops;
		if (bpf_skb_load_bytes(skb, pi.l3_offset + 7, &hops, 1) < 0 || hops <= 1)
			return TC_ACT_SHOT;
		hops--;
		if (bpf_skb_store_bytes(skb, pi.l3_offset + 7, &hops, 1, 0) < 0)
			return TC_ACT_SHOT;
	} else {
		return TC_ACT_OK;
	}
	if (bpf_skb_load_bytes(skb, 0, macs, 12) < 0)
		return TC_ACT_SHOT;
	__builtin_memcpy(swapped, macs + 6, 6);
	__builtin_memcpy(swapped + 6, macs, 6);
	if (bpf_skb_store_bytes(skb, 0, swapped, 12, 0) < 0)
		return TC_ACT_SHOT;
	__u32 *ifindex = bpf_map_lookup_elem(&next_hop, &pi.daddr4);
	return ifindex ? bpf_redirect(*ifindex, (*ifindex & 1) ? BPF_F_INGRESS : 0) : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
