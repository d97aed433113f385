/* bpf-to-bpf calls: a non-inlined parser and checksum helpers called from the program (and from each other),
 * passing stack pointers and the context, as libraries of static functions in larger programs do. */
#include "appliance_bpf.h"

struct l3 { __u16 proto; __u16 offset; __u8 ttl; __u8 l4; __u16 tot_len; };

static __attribute__((noinline)) int parse_l3(struct __sk_buff *skb, struct l3 *out)
{
	__be16 type;
	if (bpf_skb_load_bytes(skb, 12, &type, 2) < 0)
		return -1;
	out->proto = bpf_ntohs(type);
	out->offset = ETH_HLEN;
	if (out->proto == ETH_P_IP) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
			return -2;
		out->ttl = ip.ttl;
		out->l4 = ip.protocol;
		out->tot_len = bpf_ntohs(ip.tot_len);
		return 0;
	}
	if (out->proto == ETH_P_IPV6) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) < 0)
			return -3;
		out->ttl = ip6.hop_limit;
		out->l4 = ip6.nexthdr;
		out->tot_len = bpf_ntohs(ip6.payload_len) + 40;
		return 0;
	}
	return 1;
}

static __attribute__((noinline)) __u32 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) + (sum >> 16);
}

static __attribute__((noinline)) __u32 header_sum(struct __sk_buff *skb, __u32 offset)
{
	__u16 words[10];
	__u32 sum = 0;
	if (bpf_skb_load_bytes(skb, offset, words, sizeof(words)) < 0)
		return 0;
	for (int i = 0; i < 10; i++)
		sum += words[i];
	return fold(sum);
}

SEC("tc")
int subprog_parse(struct __sk_buff *skb)
{
	struct l3 l3 = {};
	int r = parse_l3(skb, &l3);

	if (r < 0)
		return 1000 - r;
	if (r > 0)
		return TC_ACT_OK;
	skb->cb[1] = l3.tot_len;
	skb->cb[2] = l3.l4 | l3.ttl << 8;
	if (l3.proto == ETH_P_IP)
		return header_sum(skb, l3.offset) == 0xffff ? TC_ACT_OK : TC_ACT_SHOT;
	return l3.ttl > 1 ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
