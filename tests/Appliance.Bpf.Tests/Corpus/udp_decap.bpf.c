/* Tunnel exit: UDP packets to the decap port lose their outer IPv4 + UDP headers (bpf_skb_adjust_room
 * shrinking at the MAC layer with DECAP_L3_IPV4); counts decapsulated packets per outer source. */
#include "appliance_bpf.h"

#define DECAP_L3_IPV4 (1ULL << 7) /* BPF_F_ADJ_ROOM_DECAP_L3_IPV4; Debian 12's uapi headers predate it */

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __be32); __type(value, __u64); __uint(max_entries, 128); } decapped SEC(".maps");
const volatile __u16 decap_port = 53;

SEC("tc")
int udp_decap(struct __sk_buff *skb)
{
	struct packet_info pi;

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP || pi.l3_offset != ETH_HLEN ||
	    pi.l4_proto != IPPROTO_UDP || !pi.l4_offset || pi.dport != decap_port)
		return TC_ACT_OK;
	int outer = pi.l4_offset - ETH_HLEN + sizeof(struct udphdr);
	if (skb->len < ETH_HLEN + outer + sizeof(struct iphdr))
		return TC_ACT_SHOT;
	long r = bpf_skb_adjust_room(skb, -outer, BPF_ADJ_ROOM_MAC, DECAP_L3_IPV4);
	if (r < 0)
		return 100 - r;
	__u64 one = 1, *n = bpf_map_lookup_elem(&decapped, &pi.saddr4);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&decapped, &pi.saddr4, &one, BPF_NOEXIST);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
