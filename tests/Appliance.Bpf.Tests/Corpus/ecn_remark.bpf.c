/* DSCP remarking and ECN: the source /24 selects a DSCP written into the IPv4 TOS (checksum fixed with
 * l3_csum_replace); frames above a size threshold are marked Congestion Experienced with
 * bpf_skb_ecn_set_ce, counted by outcome. */
#include "appliance_bpf.h"

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __be32); __type(value, __u8); __uint(max_entries, 64); } dscp_by_net SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 2); } ce_marks SEC(".maps");
const volatile __u32 ce_threshold = 150;

SEC("tc")
int ecn_remark(struct __sk_buff *skb)
{
	struct packet_info pi;
	__be16 old_word, new_word;

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP || pi.l3_offset != ETH_HLEN)
		return TC_ACT_OK;
	__be32 net = pi.saddr4 & bpf_htonl(0xffffff00);
	__u8 *dscp = bpf_map_lookup_elem(&dscp_by_net, &net);
	if (dscp && bpf_skb_load_bytes(skb, ETH_HLEN, &old_word, 2) == 0) {
		new_word = old_word;
		((__u8 *)&new_word)[1] = (*dscp << 2) | (((__u8 *)&old_word)[1] & 3) | (skb->len & 1 ? 2 : 0);
		if (bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old_word, new_word, 2) < 0 ||
		    bpf_skb_store_bytes(skb, ETH_HLEN, &new_word, 2, 0) < 0)
			return TC_ACT_SHOT;
	}
	if (skb->len > ce_threshold) {
		__u32 marked = bpf_skb_ecn_set_ce(skb);
		__u64 *n = bpf_map_lookup_elem(&ce_marks, &marked);
		if (n)
			__sync_fetch_and_add(n, 1);
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
