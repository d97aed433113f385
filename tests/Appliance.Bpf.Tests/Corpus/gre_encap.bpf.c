/* GRE tunnel entry: IPv4 packets to a tunnelled prefix get an outer IPv4 + GRE header pushed with
 * bpf_skb_adjust_room (ENCAP_L3_IPV4 | ENCAP_L4_GRE); the outer header checksum comes from csum_diff. */
#include "appliance_bpf.h"

struct gre_base { __be16 flags; __be16 protocol; };
struct tunnel { __be32 local; __be32 remote; __u8 ttl; __u8 pad[3]; };

struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, __u64); __type(value, struct tunnel); __uint(max_entries, 32); } tunnels SEC(".maps");

SEC("tc")
int gre_encap(struct __sk_buff *skb)
{
	struct packet_info pi;
	struct { __u32 prefixlen; __be32 addr; } key;
	struct iphdr inner;

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP || pi.l3_offset != ETH_HLEN)
		return TC_ACT_OK;
	key.prefixlen = 32;
	key.addr = pi.daddr4;
	struct tunnel *t = bpf_map_lookup_elem(&tunnels, &key);
	if (!t)
		return TC_ACT_OK;
	struct tunnel tun = *t;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &inner, sizeof(inner)) < 0)
		return TC_ACT_SHOT;
	int room = sizeof(struct iphdr) + sizeof(struct gre_base);
	if (bpf_skb_adjust_room(skb, room, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_GRE) < 0)
		return TC_ACT_SHOT;
	struct { struct iphdr ip; struct gre_base gre; } outer = {};
	outer.ip.version = 4;
	outer.ip.ihl = 5;
	outer.ip.tos = inner.tos;
	outer.ip.tot_len = bpf_htons(bpf_ntohs(inner.tot_len) + room);
	outer.ip.ttl = tun.ttl;
	outer.ip.protocol = IPPROTO_GRE;
	outer.ip.saddr = tun.local;
	outer.ip.daddr = tun.remote;
	outer.ip.check = ~bpf_csum_diff(0, 0, (__be32 *)&outer.ip, sizeof(outer.ip), 0);
	outer.gre.protocol = bpf_htons(ETH_P_IP);
	if (bpf_skb_store_bytes(skb, ETH_HLEN, &outer, sizeof(outer), 0) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
