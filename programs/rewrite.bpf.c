/* rewrite (tc): destination NAT for IPv4. A frame whose destination address has a rule gets the
 * rule's destination MAC and IPv4 address; the IPv4 header checksum is fixed with bpf_l3_csum_replace
 * and the TCP/UDP checksum (pseudo header) with bpf_l4_csum_replace.
 * Maps: `nat_rules` HASH, key __be32 original destination address, value struct nat_rule.
 * Verdicts: TC_ACT_OK (rewritten or not), TC_ACT_SHOT when a helper fails (truncated frame). */
#include "appliance_bpf.h"

struct nat_rule {
	__be32 new_daddr;
	__u8 new_dmac[ETH_ALEN];
	__u16 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __be32);
	__type(value, struct nat_rule);
	__uint(max_entries, 1024);
} nat_rules SEC(".maps");

#define IP_CSUM_OFF  offsetof(struct iphdr, check)
#define IP_DADDR_OFF offsetof(struct iphdr, daddr)

SEC("tc")
int rewrite(struct __sk_buff *skb)
{
	struct packet_info pi;
	struct nat_rule *rule;
	__be32 old_daddr;
	__u32 l4_csum_off = 0, l4_flags = BPF_F_PSEUDO_HDR | sizeof(__be32);

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP)
		return TC_ACT_OK;
	old_daddr = pi.daddr4;
	if (!old_daddr)
		return TC_ACT_OK;
	rule = bpf_map_lookup_elem(&nat_rules, &old_daddr);
	if (!rule)
		return TC_ACT_OK;
	__be32 new_daddr = rule->new_daddr;
	__u8 new_dmac[ETH_ALEN];
	__builtin_memcpy(new_dmac, rule->new_dmac, ETH_ALEN);

	if (pi.l4_proto == IPPROTO_TCP && pi.l4_offset)
		l4_csum_off = pi.l4_offset + offsetof(struct tcphdr, check);
	else if (pi.l4_proto == IPPROTO_UDP && pi.l4_offset) {
		l4_csum_off = pi.l4_offset + offsetof(struct udphdr, check);
		l4_flags |= BPF_F_MARK_MANGLED_0;
	}

	if (bpf_skb_store_bytes(skb, 0, new_dmac, ETH_ALEN, 0) < 0)
		return TC_ACT_SHOT;
	if (l4_csum_off && bpf_l4_csum_replace(skb, l4_csum_off, old_daddr, new_daddr, l4_flags) < 0)
		return TC_ACT_SHOT;
	if (bpf_l3_csum_replace(skb, pi.l3_offset + IP_CSUM_OFF, old_daddr, new_daddr, sizeof(__be32)) < 0)
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, pi.l3_offset + IP_DADDR_OFF, &new_daddr, sizeof(new_daddr), 0) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
