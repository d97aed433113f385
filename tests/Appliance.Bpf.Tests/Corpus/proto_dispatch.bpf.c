/* Tail-call dispatcher: the entry program classifies by EtherType / IP protocol and tail-calls a
 * per-protocol program from a PROG_ARRAY; the per-protocol programs record in cb[] and the mark. */
#include "appliance_bpf.h"

enum { SLOT_TCP, SLOT_UDP, SLOT_IPV6, SLOT_OTHER, SLOT_MAX };
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(key_size, 4); __uint(value_size, 4); __uint(max_entries, SLOT_MAX); } handlers SEC(".maps");

SEC("tc")
int proto_dispatch(struct __sk_buff *skb)
{
	struct packet_info pi;
	if (parse_packet(skb, &pi) < 0)
		return TC_ACT_SHOT;
	skb->cb[0] = pi.l4_offset | (__u32)pi.dport << 16;
	__u32 slot = pi.l3_proto == ETH_P_IPV6 ? SLOT_IPV6 : pi.l4_proto == IPPROTO_TCP ? SLOT_TCP
		   : pi.l4_proto == IPPROTO_UDP ? SLOT_UDP : SLOT_OTHER;
	bpf_tail_call(skb, &handlers, slot);
	return 77; /* empty slot */
}

SEC("tc")
int handle_tcp(struct __sk_buff *skb)
{
	skb->mark = 6;
	return (skb->cb[0] >> 16) == 22 ? TC_ACT_OK : TC_ACT_PIPE;
}

SEC("tc")
int handle_udp(struct __sk_buff *skb)
{
	skb->mark = 17;
	skb->cb[3] = skb->len;
	return TC_ACT_OK;
}

SEC("tc")
int handle_ipv6(struct __sk_buff *skb)
{
	struct packet_info pi;
	skb->mark = 41;
	if (parse_packet(skb, &pi) == 0 && pi.l4_proto == IPPROTO_UDP)
		bpf_tail_call(skb, &handlers, SLOT_UDP);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
