/* Dual-stack ACL: longest-prefix match on the source address (IPv4 and IPv6 LPM tries); the matching
 * rule allows, drops or marks the packet; every decision is counted. */
#include "appliance_bpf.h"

enum { ACL_ALLOW, ACL_DROP, ACL_MARK };
struct key4 { __u32 prefixlen; __be32 addr; };
struct key6 { __u32 prefixlen; __u8 addr[16]; };
struct rule { __u32 action; __u32 mark; };

struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, struct key4); __type(value, struct rule); __uint(max_entries, 64); } acl4 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, struct key6); __type(value, struct rule); __uint(max_entries, 64); } acl6 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 3); } decisions SEC(".maps");

SEC("tc")
int lpm_acl_dual(struct __sk_buff *skb)
{
	struct packet_info pi;
	struct rule *r = 0;

	if (parse_packet(skb, &pi) < 0)
		return TC_ACT_OK;
	if (pi.l3_proto == ETH_P_IP) {
		struct key4 k = { 32, pi.saddr4 };
		r = bpf_map_lookup_elem(&acl4, &k);
	} else if (pi.l3_proto == ETH_P_IPV6) {
		struct key6 k = { .prefixlen = 128 };
		if (bpf_skb_load_bytes(skb, pi.l3_offset + offsetof(struct ipv6hdr, saddr), k.addr, 16) < 0)
			return TC_ACT_OK;
		r = bpf_map_lookup_elem(&acl6, &k);
	}
	__u32 action = r ? r->action : ACL_ALLOW;
	__u64 *n = bpf_map_lookup_elem(&decisions, &action);
	if (n)
		__sync_fetch_and_add(n, 1);
	if (action == ACL_DROP)
		return TC_ACT_SHOT;
	if (action == ACL_MARK && r)
		skb->mark = r->mark;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
