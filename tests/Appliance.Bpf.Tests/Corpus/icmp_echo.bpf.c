/* ICMP echo responder: an echo request to an address the responder owns becomes the reply in place
 * (addresses and MACs swapped, type 0, ICMP checksum fixed by the type change) and goes back out of the
 * interface it came from. */
#include "appliance_bpf.h"

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __be32); __type(value, __u8); __uint(max_entries, 16); } owned SEC(".maps");

SEC("tc")
int icmp_echo(struct __sk_buff *skb)
{
	struct packet_info pi;
	struct iphdr ip;
	__u8 macs[12], swapped[12];
	__u16 type_code, reply = 0;

	if (parse_packet(skb, &pi) < 0 || pi.l3_proto != ETH_P_IP || pi.l4_proto != IPPROTO_ICMP || pi.l3_offset != ETH_HLEN)
		return TC_ACT_OK;
	if (!bpf_map_lookup_elem(&owned, &pi.daddr4))
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0 || ip.ihl != 5)
		return TC_ACT_OK;
	__u32 icmp = ETH_HLEN + sizeof(ip);
	if (bpf_skb_load_bytes(skb, icmp, &type_code, 2) < 0 || (type_code & 0xff) != 8)
		return TC_ACT_OK;
	if (bpf_l4_csum_replace(skb, icmp + 2, type_code, reply, 2) < 0 ||
	    bpf_skb_store_bytes(skb, icmp, &reply, 2, 0) < 0 ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct iphdr, saddr), &ip.daddr, 4, 0) < 0 ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct iphdr, daddr), &ip.saddr, 4, 0) < 0 ||
	    bpf_skb_load_bytes(skb, 0, macs, 12) < 0)
		return TC_ACT_SHOT;
	__builtin_memcpy(swapped, macs + 6, 6);
	__builtin_memcpy(swapped + 6, macs, 6);
	if (bpf_skb_store_bytes(skb, 0, swapped, 12, 0) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
