/* Classifier: picks a traffic class from the DSCP (IPv4 TOS / IPv6 traffic class) and the L4 port, and
 * assigns it through the context as a cls_bpf direct-action classifier does: tc_classid (minor), priority,
 * tc_index and mark, then TC_ACT_OK. */
#include "appliance_bpf.h"

struct class_rule { __u32 classid; __u32 priority; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, struct class_rule); __uint(max_entries, 64); } by_dscp SEC(".maps");

SEC("tc")
int dscp_classifier(struct __sk_buff *skb)
{
	struct packet_info pi;
	__u8 tc[2];
	__u32 dscp = 0;

	if (parse_packet(skb, &pi) < 0)
		return TC_ACT_OK;
	if (pi.l3_proto == ETH_P_IP && bpf_skb_load_bytes(skb, pi.l3_offset + 1, tc, 1) == 0)
		dscp = tc[0] >> 2;
	else if (pi.l3_proto == ETH_P_IPV6 && bpf_skb_load_bytes(skb, pi.l3_offset, tc, 2) == 0)
		dscp = ((tc[0] & 0x0f) << 2) | (tc[1] >> 6);
	else
		return TC_ACT_OK;
	if (pi.l4_offset && (pi.dport == 22 || pi.dport == 53))
		dscp = 46;
	struct class_rule *rule = bpf_map_lookup_elem(&by_dscp, &dscp);
	if (!rule || !rule->classid)
		return TC_ACT_OK;
	skb->tc_classid = rule->classid;
	skb->priority = rule->priority;
	skb->tc_index = dscp;
	skb->mark = skb->tc_classid << 8 | skb->tc_index;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
