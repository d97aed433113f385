/* CO-RE reads in the style of programs built against vmlinux.h: context fields through a relocatable
 * __sk_buff, packet headers loaded into relocatable iphdr/ipv6hdr/tcphdr, field-exists and type-size
 * checks, and an enum value. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

SEC("tc")
int core_reads(struct __sk_buff *skb)
{
	struct ethhdr eth;
	__u32 out = 0;

	if (bpf_skb_load_bytes(skb, 0, &eth, bpf_core_type_size(struct ethhdr)) < 0)
		return 1;
	skb->cb[0] = skb->len + (skb->protocol << 16);
	skb->cb[1] = bpf_core_field_exists(skb->tstamp_type) | bpf_core_field_exists(skb->hwtstamp) << 1;
	if (eth.h_proto == bpf_htons(0x0800)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, sizeof(eth), &ip, bpf_core_type_size(struct iphdr)) < 0)
			return 2;
		out = ip.ttl + (ip.protocol << 8) + bpf_ntohs(ip.tot_len) * 65536;
		skb->mark = ip.saddr ^ ip.daddr;
		if (ip.protocol == IPPROTO_TCP) {
			struct tcphdr tcp;
			if (bpf_skb_load_bytes(skb, sizeof(eth) + ip.ihl * 4, &tcp, sizeof(tcp)) == 0)
				skb->cb[2] = bpf_ntohs(tcp.dest) | (tcp.syn << 16) | (tcp.doff << 20);
		}
	} else if (eth.h_proto == bpf_htons(0x86dd)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, sizeof(eth), &ip6, sizeof(ip6)) < 0)
			return 3;
		out = ip6.hop_limit + (ip6.nexthdr << 8);
		skb->mark = ip6.saddr.in6_u.u6_addr32[3];
	}
	skb->cb[3] = bpf_core_enum_value(enum bpf_adj_room_mode, BPF_ADJ_ROOM_MAC) + 10 * bpf_core_type_exists(struct tcphdr);
	return out;
}

char LICENSE[] SEC("license") = "GPL";
